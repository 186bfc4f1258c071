// error: eval() takes a ccdx expression such as `raw - bias`
#include <ccdx/expr/expression.hpp>

int main()
{
    ccdx::image<float> raw(2, 2);
    auto out = ccdx::eval(raw);
    return static_cast<int>(out.rows());
}
