// ccdproc's test_rebin.py. rebin is deprecated in ccdproc for block_replicate and block_reduce;
// ccdx has only those, so rebin to n times the shape is block_replicate(n, conserve_sum=false)
// (rebin repeats values) and rebin to 1/n of it is block_average(n).
#include <doctest/doctest.h>

#include <ccdx/ccdx.hpp>
#include <ccdx/reduce/block.hpp>

#include "fixtures.hpp"

using ccdproc_fixtures::ccd_data;
using ccdproc_fixtures::legacy_normal;
using ccdx::image;

namespace {

double total(const xt::xtensor<double, 2>& a)
{
    double s = 0;
    for (double v : a) s += v;
    return s;
}

}  // namespace

TEST_CASE("test_rebin_larger")
{
    const auto a = ccd_data(10);
    const image<double> b = ccdx::block_replicate(a, 2, false);
    CHECK(b.rows() == 20);
    CHECK(b.cols() == 20);
    CHECK(total(b.data()) == doctest::Approx(4 * total(a.data())).epsilon(1e-7));
    CHECK(b.data()(3, 5) == a.data()(1, 2));  // values repeated, not divided
}

TEST_CASE("test_rebin_smaller")
{
    const auto a = ccd_data(10);
    const image<double> b = ccdx::block_replicate(a, 2, false);
    const image<double> c = ccdx::block_average(b, 2);
    CHECK(c.rows() == 10);
    CHECK(c.cols() == 10);
    CHECK(total(c.data() - a.data()) == 0);
}

TEST_CASE("test_rebin_ccddata")
{
    auto ccd = ccd_data(10);
    SUBCASE("without mask or uncertainty")
    {
        const image<double> b = ccdx::block_replicate(ccd, 2, false);
        CHECK(b.rows() == 20);
        CHECK(b.cols() == 20);
        CHECK_FALSE(b.has_mask());
        CHECK_FALSE(b.has_uncertainty());
    }
    SUBCASE("with mask and uncertainty")
    {
        ccd.set_mask(xt::zeros<ccdx::mask_t>({10, 10}));
        // ccdproc draws the uncertainty unseeded; any normal draws serve.
        legacy_normal rng(1);
        auto err = ccd.data();
        for (double& v : err) v = rng.normal(0, 1);
        ccd.set_uncertainty(err);
        const image<double> b = ccdx::block_replicate(ccd, 2, false);
        REQUIRE(b.has_mask());
        REQUIRE(b.has_uncertainty());
        CHECK(b.mask().shape()[0] == 20);
        CHECK(b.mask().shape()[1] == 20);
        CHECK(b.uncertainty().shape()[0] == 20);
        CHECK(b.uncertainty().shape()[1] == 20);
    }
}

TEST_CASE("test_rebin_does_not_change_input")
{
    const auto ccd = ccd_data();
    const auto original = ccd_data();
    const image<double> b = ccdx::block_average(ccd, 5);  // rebin to (20, 20)
    CHECK(b.rows() == 20);
    CHECK(ccd.data() == original.data());
    CHECK(ccd.unit() == original.unit());
}
