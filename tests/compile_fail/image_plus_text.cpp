// error: ccdx: an image combined with text
#include <ccdx/expr/expression.hpp>

int main()
{
    ccdx::image<float> raw(2, 2);
    ccdx::image<float> out = raw - "100";
    return static_cast<int>(out.rows());
}
