#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <vector>

#include <ccdx/ccdx.hpp>
#include <ccdx/reduce/detail/polyfit.hpp>
#include <ccdx/reduce/overscan.hpp>

#include "frames.hpp"

using ccdx::image;
using ccdx::unit;
using fixtures::arange;

TEST_CASE("subtract_overscan: a mean per row from the strip's columns")
{
    // The reference's example: arange(24) as 4 x 6, strip '[5:6, :]' -> every row becomes
    // [-4.5 -3.5 -2.5 -1.5 -0.5 0.5].
    const auto raw = arange(4, 6);
    const image<double> out = ccdx::subtract_overscan(raw, "[5:6, :]");
    for (std::size_t r = 0; r < 4; ++r)
        for (std::size_t c = 0; c < 6; ++c) CHECK(out.data()(r, c) == doctest::Approx(double(c) - 4.5));
    CHECK(out.unit() == unit("adu"));
    CHECK(out.header().value<std::string>("SUBOSCAN") ==
          "ccd=<CCDData>, fits_section=[5:6, :], overscan_axis=1, median=False, model=None");
    CHECK(ccdx::to_string(ccdx::subtract_overscan(raw, "[5:6, :]")) == "raw - overscan");
}

TEST_CASE("subtract_overscan: a median per column from the strip's rows (axis 0)")
{
    // '[:, 4:4]', axis 0, median -> rows -18, -12, -6, 0.
    const auto raw = arange(4, 6);
    ccdx::overscan_options o;
    o.axis = 0;
    o.median = true;
    const image<double> out = ccdx::subtract_overscan(raw, "[:, 4:4]", o);
    for (std::size_t r = 0; r < 4; ++r)
        for (std::size_t c = 0; c < 6; ++c) CHECK(out.data()(r, c) == doctest::Approx(6.0 * double(r) - 18));

    // Left to choose, the axis runs along the strip's long side: this wide strip gives column levels.
    o.axis = std::nullopt;
    const image<double> automatic = ccdx::subtract_overscan(raw, "[:, 4:4]", o);
    CHECK(automatic.data()(0, 0) == doctest::Approx(-18));
}

TEST_CASE("subtract_overscan: the median of an even count is the mean of the middle two; NaN is skipped")
{
    auto raw = arange(2, 5);
    raw.data()(0, 3) = 10;
    raw.data()(0, 4) = 20;  // strip row 0: {10, 20} -> 15 (mean and median alike)
    raw.data()(1, 1) = 7;
    raw.data()(1, 3) = 1;
    raw.data()(1, 4) = std::numeric_limits<double>::quiet_NaN();  // row 1: {1} -> 1
    ccdx::overscan_options o;
    o.median = true;
    const image<double> out = ccdx::subtract_overscan(raw, "[4:5,*]", o);
    CHECK(out.data()(0, 0) == doctest::Approx(-15));
    CHECK(out.data()(1, 1) == doctest::Approx(6));
}

TEST_CASE("subtract_overscan keeps the ccd's uncertainty and mask, ignores the strip's")
{
    auto raw = arange(3, 4);
    xt::xtensor<double, 2> sigma = raw.data();
    sigma.fill(2);
    raw.set_uncertainty(sigma);
    raw.ensure_mask()(1, 3) = ccdx::mask_t(1);  // in the strip: no effect on the level
    const image<double> out = ccdx::subtract_overscan(raw, "[4:4,*]");
    CHECK(out.uncertainty()(2, 0) == 2);
    CHECK(out.mask()(1, 3) == ccdx::mask_t(1));
    CHECK(out.data()(1, 0) == doctest::Approx(-3));
}

TEST_CASE("subtract_overscan with a polynomial model restores a linear ramp")
{
    // Overscan level 300 + 2 * row, plus one noisy value; the science is 10 everywhere.
    image<double> raw(20, 8, unit("adu"));
    for (std::size_t r = 0; r < 20; ++r)
        for (std::size_t c = 0; c < 8; ++c) raw.data()(r, c) = 300 + 2.0 * double(r) + (c < 6 ? 10 : 0);
    ccdx::overscan_options o;
    o.fit_degree = 1;
    const image<double> out = ccdx::subtract_overscan(raw, "[7:8,*]", o);
    for (std::size_t r = 0; r < 20; ++r) {
        CHECK(out.data()(r, 0) == doctest::Approx(10));
        CHECK(out.data()(r, 7) == doctest::Approx(0).epsilon(1e-9));
    }
    CHECK(out.header().value<std::string>("SUBOSCAN").find("model=<Polynomial1D(1)>") != std::string::npos);

    o.fit_degree = 25;  // more coefficients than rows
    CHECK_THROWS_AS(ccdx::subtract_overscan(raw, "[7:8,*]", o), ccdx::value_error);
}

TEST_CASE("polynomial_fit: least-squares values match a hand-solved line and quadratic")
{
    // y = {1, 2, 2, 5}: the best line through x = 0..3 is 0.7 + 1.2 x (normal equations).
    const auto line = ccdx::detail::polynomial_fit({1, 2, 2, 5}, 1);
    CHECK(line[0] == doctest::Approx(0.7));
    CHECK(line[3] == doctest::Approx(4.3));
    // An exact quadratic is reproduced; a NaN sample is left out of the fit.
    std::vector<double> q;
    for (int i = 0; i < 9; ++i) q.push_back(3 - 0.5 * i + 0.25 * i * i);
    q[4] = std::numeric_limits<double>::quiet_NaN();
    const auto fit = ccdx::detail::polynomial_fit(q, 2);
    CHECK(fit[4] == doctest::Approx(3 - 2 + 4));
    CHECK(fit[8] == doctest::Approx(3 - 4 + 16));
}

TEST_CASE("subtract_overscan with a separate overscan image, and its errors")
{
    const auto raw = arange(4, 6);
    image<double> strip(4, 2, unit("adu"));
    strip.data() = xt::xtensor<double, 2>{{1, 3}, {1, 3}, {5, 5}, {0, 0}};
    strip.set_name("strip");
    const image<double> out = ccdx::subtract_overscan(raw, strip);
    CHECK(out.data()(0, 0) == doctest::Approx(-2));
    CHECK(out.data()(2, 0) == doctest::Approx(12 - 5));
    CHECK(out.header().value<std::string>("SUBOSCAN").find("overscan=<CCDData>") != std::string::npos);

    image<double> short_strip(3, 2, unit("adu"));
    CHECK_THROWS_AS(ccdx::subtract_overscan(raw, short_strip), ccdx::shape_error);
    CHECK_THROWS_AS(ccdx::subtract_overscan(raw, "[5:6,1:3]"), ccdx::shape_error);  // 3 row levels for 4 rows
    CHECK_THROWS_AS(ccdx::subtract_overscan(raw, "[5:9,*]"), ccdx::section_error);
    ccdx::overscan_options bad;
    bad.axis = 2;
    CHECK_THROWS_WITH_AS(ccdx::subtract_overscan(raw, "[5:6,*]", bad), doctest::Contains("axis"), ccdx::value_error);
}
