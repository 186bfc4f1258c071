// error: median() takes an image, not an unevaluated expression: call eval() first
#include <ccdx/core/statistics.hpp>
#include <ccdx/expr/expression.hpp>

int main()
{
    ccdx::image<float> raw(2, 2), bias(2, 2);
    return ccdx::median(raw - bias) > 0;
}
