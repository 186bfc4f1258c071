// error: ccdx: a pointer where an image is expected
#include <ccdx/expr/expression.hpp>

int main()
{
    ccdx::image<float> raw(2, 2), bias(2, 2);
    const ccdx::image<float>* master = &bias;
    ccdx::image<float> out = raw - master;
    return static_cast<int>(out.rows());
}
