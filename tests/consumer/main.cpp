// A consumer of the installed package: the formula evaluates, and carries its uncertainty.
#include <ccdx/ccdx.hpp>

#include <cmath>
#include <cstdio>

int main()
{
    using namespace ccdx;
    image<float> raw(3, 5, unit("adu")), bias(3, 5, unit("adu"));
    raw.data().fill(110);
    raw.set_uncertainty(xt::xtensor<float, 2>(xt::xtensor<float, 2>::from_shape({3, 5})));
    raw.uncertainty().fill(3);
    bias.data().fill(10);
    bias.set_uncertainty(xt::xtensor<float, 2>(xt::xtensor<float, 2>::from_shape({3, 5})));
    bias.uncertainty().fill(4);
    image<float> out = (raw - bias) * quantity(2, unit("electron/adu"));
    const bool ok = out.data()(2, 4) == 200 && std::abs(out.uncertainty()(1, 1) - 10) < 1e-5 && out.unit() == unit("electron");
    std::printf("%s (ccdx %s)\n", ok ? "ok" : "wrong result", CCDX_VERSION_STRING);
    return ok ? 0 : 1;
}
