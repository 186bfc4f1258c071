// ccdproc's test_gain.py: gain_correct scales data and uncertainty and multiplies the unit.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>

#include <ccdx/ccdx.hpp>
#include <ccdx/reduce/calibrate.hpp>
#include <ccdx/reduce/deviation.hpp>

#include "fixtures.hpp"

using ccdproc_fixtures::ccd_data;
using ccdx::image;
using ccdx::quantity;
using ccdx::unit;

namespace {

// numpy's assert_array_almost_equal_nulp with nulp=1: |a - b| <= spacing(max(|a|, |b|)).
bool within_one_ulp(double a, double b)
{
    const double m = std::fmax(std::fabs(a), std::fabs(b));
    return std::fabs(a - b) <= std::nextafter(m, INFINITY) - m;
}

bool all_scaled(const xt::xtensor<double, 2>& got, const xt::xtensor<double, 2>& orig, double k)
{
    if (got.shape() != orig.shape()) return false;
    for (std::size_t i = 0; i < got.size(); ++i)
        if (!within_one_ulp(got.data()[i], k * orig.data()[i])) return false;
    return true;
}

// The test's input: |data| (so the Poisson term has no negative counts), sigma from readnoise 1 adu.
image<double> positive_with_sigma()
{
    auto ccd = ccd_data();
    ccd.data() = xt::abs(ccd.data());
    image<double> out = ccdx::create_deviation(ccd, quantity(1.0, unit("adu")));
    return out;
}

}  // namespace

TEST_CASE("test_linear_gain_correct")
{
    auto ccd = positive_with_sigma();
    ccd.header().set("gainval", 3.0);
    REQUIRE(ccd.has_uncertainty());

    SUBCASE("a plain number keeps the unit")
    {
        const image<double> out = ccdx::gain_correct(ccd, quantity(3.0));
        CHECK(all_scaled(out.data(), ccd.data(), 3.0));
        CHECK(all_scaled(out.uncertainty(), ccd.uncertainty(), 3.0));
        CHECK(out.unit() == ccd.unit());
    }
    SUBCASE("3 photon / adu")
    {
        const quantity g(3.0, unit("photon / adu"));
        const image<double> out = ccdx::gain_correct(ccd, g);
        CHECK(all_scaled(out.data(), ccd.data(), 3.0));
        CHECK(all_scaled(out.uncertainty(), ccd.uncertainty(), 3.0));
        CHECK(out.unit() == ccd.unit() * g.unit);
        CHECK(out.unit() == unit("photon"));
    }
    SUBCASE("3 electron / adu")
    {
        const quantity g(3.0, unit("electron / adu"));
        const image<double> out = ccdx::gain_correct(ccd, g);
        CHECK(all_scaled(out.data(), ccd.data(), 3.0));
        CHECK(all_scaled(out.uncertainty(), ccd.uncertainty(), 3.0));
        CHECK(out.unit() == ccd.unit() * g.unit);
        CHECK(out.unit() == unit("electron"));
    }
    SUBCASE("Keyword('gainval', unit=electron / adu) read from the header")
    {
        const ccdx::from_header g{"gainval", unit("electron / adu")};
        const image<double> out = ccdx::gain_correct(ccd, g);
        CHECK(all_scaled(out.data(), ccd.data(), 3.0));
        CHECK(all_scaled(out.uncertainty(), ccd.uncertainty(), 3.0));
        CHECK(out.unit() == ccd.unit() * g.unit);
    }
}

TEST_CASE("test_linear_gain_unit_keyword")
{
    // ccdproc's gain=3.0 with gain_unit=electron/adu is, in ccdx, the quantity 3 electron / adu.
    const auto ccd = positive_with_sigma();
    const unit gain_unit("electron / adu");
    const image<double> out = ccdx::gain_correct(ccd, quantity(3.0, gain_unit));
    CHECK(all_scaled(out.data(), ccd.data(), 3.0));
    CHECK(all_scaled(out.uncertainty(), ccd.uncertainty(), 3.0));
    CHECK(out.unit() == ccd.unit() * gain_unit);
}
