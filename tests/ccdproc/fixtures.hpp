#pragma once
// ccdproc's test fixtures, reproduced value for value so that its tests run on the same inputs.

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <random>
#include <string>

#include <ccdx/core/image.hpp>

namespace ccdproc_fixtures {

// numpy's legacy RandomState: MT19937 seeded by init_genrand (what std::mt19937(seed) does),
// doubles of 53 bits from two draws, and the polar Box-Muller gauss that keeps its second value.
class legacy_normal {
public:
    explicit legacy_normal(std::uint32_t seed) : mt_(seed) {}

    double uniform()
    {
        const std::uint32_t a = static_cast<std::uint32_t>(mt_()) >> 5;
        const std::uint32_t b = static_cast<std::uint32_t>(mt_()) >> 6;
        return (a * 67108864.0 + b) / 9007199254740992.0;
    }

    double gauss()
    {
        if (has_cached_) {
            has_cached_ = false;
            return cached_;
        }
        double x1 = 0, x2 = 0, r2 = 0;
        do {
            x1 = 2.0 * uniform() - 1.0;
            x2 = 2.0 * uniform() - 1.0;
            r2 = x1 * x1 + x2 * x2;
        } while (r2 >= 1.0 || r2 == 0.0);
        const double f = std::sqrt(-2.0 * std::log(r2) / r2);
        cached_ = f * x1;
        has_cached_ = true;
        return f * x2;
    }

    double normal(double loc, double scale) { return loc + scale * gauss(); }

private:
    std::mt19937 mt_;
    double cached_ = 0.0;
    bool has_cached_ = false;
};

// ccdproc's ccd_data(): normal(mean, scale, (size, size)) under seed 123, in adu, with its two
// header keys. Filled in row-major order, as numpy fills.
inline ccdx::image<double> ccd_data(std::size_t data_size = 100, double data_scale = 1.0, double data_mean = 0.0,
                                    std::uint32_t rng_seed = 123)
{
    legacy_normal rng(rng_seed);
    ccdx::image<double> img(data_size, data_size, ccdx::unit("adu"));
    for (std::size_t i = 0; i < img.size(); ++i) img.data().data()[i] = rng.normal(data_mean, data_scale);
    img.header().set("my_key", std::int64_t{42});
    img.header().set("your_key", std::string("not 42"));
    img.set_name("ccd_data");
    return img;
}

}  // namespace ccdproc_fixtures
