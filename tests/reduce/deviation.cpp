#include <doctest/doctest.h>

#include <cmath>
#include <limits>

#include <ccdx/ccdx.hpp>
#include <ccdx/reduce/calibrate.hpp>
#include <ccdx/reduce/deviation.hpp>

using ccdx::image;
using ccdx::quantity;
using ccdx::unit;

namespace {

image<double> four_pixels(const char* u)
{
    // The reference's example: [4, -4, 0, NaN].
    image<double> img(1, 4, unit(u));
    img.data() = xt::xtensor<double, 2>{{4, -4, 0, std::numeric_limits<double>::quiet_NaN()}};
    img.set_name("raw");
    return img;
}

}  // namespace

TEST_CASE("create_deviation: sqrt(gain*data + readnoise^2) / gain, NaN where negative")
{
    const auto raw = four_pixels("adu");
    const quantity gain(2, unit("electron / adu")), readnoise(5, unit("electron"));

    const image<double> out = ccdx::create_deviation(raw, gain, readnoise);
    REQUIRE(out.has_uncertainty());
    const auto& s = out.uncertainty();
    CHECK(s(0, 0) == doctest::Approx(2.8722813));  // sqrt(8 + 25) / 2
    CHECK(std::isnan(s(0, 1)));
    CHECK(s(0, 2) == doctest::Approx(2.5));
    CHECK(std::isnan(s(0, 3)));
    CHECK(out.unit() == unit("adu"));  // sigma is in the data's unit, and the data is unchanged
    CHECK(out.data()(0, 0) == 4);
    CHECK(out.header().value<std::string>("CREATVAR") == "ccd_data=<CCDData>, gain=2.0 electron / adu, readnoise=5.0 electron");

    const image<double> kept = ccdx::create_deviation(raw, gain, readnoise, true);
    CHECK(kept.uncertainty()(0, 1) == doctest::Approx(2.5));  // negative counts as 0: r / g
    CHECK(std::isnan(kept.uncertainty()(0, 3)));               // NaN stays NaN
}

TEST_CASE("create_deviation replaces an existing uncertainty and keeps the mask")
{
    auto raw = four_pixels("electron");
    raw.set_uncertainty(xt::xtensor<double, 2>{{100, 100, 100, 100}});
    raw.set_mask(xt::xtensor<ccdx::mask_t, 2>{{0, 4, 0, 1}});
    const image<double> out = ccdx::create_deviation(raw, quantity(3, unit("electron")));
    CHECK(out.uncertainty()(0, 0) == doctest::Approx(std::sqrt(13.0)));
    CHECK(out.uncertainty()(0, 2) == doctest::Approx(3));
    CHECK(out.mask()(0, 1) == 4);
    CHECK(out.mask()(0, 3) == 1);
}

TEST_CASE("create_deviation: units of data, gain and readnoise must agree exactly")
{
    // The reference's matrix: (data, gain, readnoise).
    const auto e = four_pixels("electron");
    const auto adu = four_pixels("adu");
    CHECK_NOTHROW(ccdx::create_deviation(e, quantity(5, unit("electron"))));
    CHECK_NOTHROW(ccdx::create_deviation(e, quantity(1), quantity(5, unit("electron"))));
    CHECK_NOTHROW(ccdx::create_deviation(adu, quantity(2, unit("electron / adu")), quantity(5, unit("electron"))));
    CHECK_THROWS_AS(ccdx::create_deviation(e, quantity(2, unit("electron")), quantity(5, unit("electron"))),
                    ccdx::unit_error);
    CHECK_THROWS_AS(ccdx::create_deviation(e, quantity(5)), ccdx::unit_error);
    CHECK_THROWS_AS(ccdx::create_deviation(adu, quantity(1), quantity(5, unit("electron"))), ccdx::unit_error);
    CHECK_THROWS_WITH_AS(
        ccdx::create_deviation(adu, quantity(2, unit("photon / adu")), quantity(5, unit("electron"))),
        doctest::Contains("ph / adu"), ccdx::unit_error);
}

TEST_CASE("create_deviation inside a chain: sigma follows the later steps")
{
    // ccdproc's worked ccd_process example: 8 adu, gain 0.5 e/adu, readnoise sqrt(5) e
    // -> sigma 6 adu -> 3 e after the gain.
    image<double> raw(3, 11, unit("adu"));
    raw.data().fill(8);
    const quantity gain(0.5, unit("electron / adu"));
    const image<double> out = ccdx::gain_correct(ccdx::create_deviation(raw, gain, quantity(std::sqrt(5.0), unit("electron"))), gain);
    CHECK(out.data()(2, 10) == doctest::Approx(4));
    CHECK(out.uncertainty()(2, 10) == doctest::Approx(3));
    CHECK(out.unit() == unit("electron"));
    CHECK(out.header().contains("CREATVAR"));
    CHECK(out.header().contains("GAINCOR"));
}
