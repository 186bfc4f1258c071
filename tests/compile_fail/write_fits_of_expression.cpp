// error: write_fits() takes an image, not an unevaluated expression: call eval() first
#include <ccdx/expr/expression.hpp>
#include <ccdx/io/fits.hpp>

int main()
{
    ccdx::image<float> raw(2, 2), bias(2, 2);
    ccdx::write_fits(raw - bias, "out.fits");
}
