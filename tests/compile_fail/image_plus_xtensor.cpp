// error: ambiguous overload for 'operator-' (operand types are 'ccdx::image<float>' and 'xt::xtensor<float, 2>'
// xtensor's operators take any operand, so the best ccdx can do is make the call ambiguous
// (without ccdx's overload, xtensor would treat the whole image as one scalar).
#include <ccdx/expr/expression.hpp>

int main()
{
    ccdx::image<float> raw(2, 2);
    xt::xtensor<float, 2> bias = xt::xtensor<float, 2>::from_shape({2, 2});
    ccdx::image<float> out = raw - bias;
    return static_cast<int>(out.rows());
}
