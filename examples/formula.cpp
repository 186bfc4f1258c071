// The formula on paper, run as one pass: synthetic bias, dark, flat and a raw frame with a star,
// a hot pixel and a saturated column, reduced with uncertainty and mask carried alongside.

#include <chrono>
#include <cmath>
#include <cstdio>
#include <random>

#include <ccdx/ccdx.hpp>

using namespace ccdx;

namespace {

image<float> synthetic(const char* name, std::size_t rows, std::size_t cols, const char* bunit)
{
    image<float> img(rows, cols, unit(bunit));
    img.set_name(name);
    return img;
}

void set_sigma(image<float>& img, float sigma)
{
    auto s = image<float>::plane::from_shape({img.rows(), img.cols()});
    s.fill(sigma);
    img.set_uncertainty(std::move(s));
}

}  // namespace

int main()
{
    const std::size_t rows = 1024, cols = 1536;
    std::mt19937 rng(7);
    std::normal_distribution<float> noise(0, 1);

    image<float> bias = synthetic("bias", rows, cols, "adu"), dark = synthetic("dark", rows, cols, "adu"),
                 flat = synthetic("flat", rows, cols, ""), raw = synthetic("raw", rows, cols, "adu");
    for (std::size_t r = 0; r < rows; ++r)
        for (std::size_t c = 0; c < cols; ++c) {
            const double x = (double(c) - cols / 2.0) / cols, y = (double(r) - rows / 2.0) / rows;
            const float vignetting = float(1 - 0.2 * (x * x + y * y));
            const float star = float(20000 * std::exp(-((c - 700.0) * (c - 700.0) + (r - 400.0) * (r - 400.0)) / 18.0));
            bias.data()(r, c) = 1000 + 2 * noise(rng);
            dark.data()(r, c) = 0.5f + 0.05f * noise(rng);  // per second
            flat.data()(r, c) = vignetting;
            raw.data()(r, c) = 1000 + 90 * 0.5f + vignetting * (300 + star) + 5 * noise(rng);
        }
    dark.data()(100, 200) = 50;      // a hot pixel
    for (std::size_t r = 0; r < rows; ++r) raw.data()(r, 1200) = 65535;  // a saturated column
    set_sigma(bias, 2);
    set_sigma(dark, 0.05f);
    set_sigma(raw, 5);
    dark.set_unit(unit("adu / s"));

    const quantity exposure(90, unit("s"));
    const quantity gain(1.5, unit("electron / adu"));

    // Saturation goes into the mask before anything else touches the pixels.
    auto marked = mark(raw, raw >= 65000, 2);
    auto formula = (marked - bias - dark * exposure) / flat * gain;
    std::printf("formula  %s\n", to_string(formula).c_str());

    const auto t0 = std::chrono::steady_clock::now();
    image<float> reduced = formula;
    const std::chrono::duration<double, std::milli> dt = std::chrono::steady_clock::now() - t0;

    std::size_t masked = 0;
    for (auto m : reduced.mask()) masked += m != 0;
    std::printf("frames   %zu x %zu float, raw/bias/dark with uncertainty\n", rows, cols);
    std::printf("result   unit %s, uncertainty %s, mask %s (%zu pixels masked)\n", to_string(reduced.unit()).c_str(),
                reduced.has_uncertainty() ? "yes" : "no", reduced.has_mask() ? "yes" : "no", masked);
    std::printf("sky      %.1f +- %.2f electron at (10, 10)\n", reduced.data()(10, 10), reduced.uncertainty()(10, 10));
    std::printf("star     %.0f electron at its peak (400, 700)\n", reduced.data()(400, 700));
    std::printf("time     %.1f ms for one pass over %zu pixels\n", dt.count(), rows * cols);
    return reduced.unit() == unit("electron") && masked == rows ? 0 : 1;
}
