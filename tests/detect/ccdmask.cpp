#include <doctest/doctest.h>

#include <cmath>
#include <random>
#include <vector>

#include <xtensor/xtensor.hpp>

#include "ccdx/core/mask.hpp"
#include "ccdx/detect/ccdmask.hpp"

using ccdx::ccdmask;
using ccdx::ccdmask_options;

namespace {

// A ratio of two flats: 1 with 1 % Gaussian noise, 40 lines x 32 columns like ccdproc's test flats.
ccdx::image<double> ratio(unsigned seed = 1, std::size_t lines = 40, std::size_t cols = 32)
{
    std::mt19937 rng(seed);
    std::normal_distribution<double> noise(1.0, 0.01);
    ccdx::image<double> r(lines, cols);
    for (auto& v : r.data()) v = noise(rng);
    return r;
}

std::size_t count(const xt::xtensor<bool, 2>& m) { return static_cast<std::size_t>(std::count(m.begin(), m.end(), true)); }

bool whole_column(const xt::xtensor<bool, 2>& m, std::size_t col)
{
    for (std::size_t l = 0; l < m.shape()[0]; ++l)
        if (!m(l, col)) return false;
    return true;
}

}  // namespace

TEST_CASE("clean flats have no bad pixels, whatever the sigma window")
{
    for (auto [ncsig, nlsig] : {std::pair<std::size_t, std::size_t>{9, 11}, {11, 15}, {15, 15}}) {
        ccdmask_options o;
        o.ncsig = ncsig;
        o.nlsig = nlsig;
        CHECK(count(ccdmask(ratio(), o)) == 0);
        o.byblocks = true;
        CHECK(count(ccdmask(ratio(), o)) == 0);
    }
}

TEST_CASE("a single bad pixel is the only one found")
{
    auto r = ratio();
    r.data()(14, 3) = 1.5;
    const auto m = ccdmask(r);
    CHECK(count(m) == 1);
    CHECK(m(14, 3));
}

TEST_CASE("a bad column is found in every mode")
{
    auto r = ratio(2);
    for (std::size_t l = 0; l < r.rows(); ++l) r.data()(l, 7) *= 0.85;
    for (bool byblocks : {false, true})
        for (bool findbadcolumns : {false, true}) {
            CAPTURE(byblocks);
            CAPTURE(findbadcolumns);
            ccdmask_options o;
            o.byblocks = byblocks;
            o.findbadcolumns = findbadcolumns;
            const auto m = ccdmask(r, o);
            CHECK(whole_column(m, 7));
            CHECK(count(m) == r.rows());
        }
}

TEST_CASE("findbadcolumns closes short good gaps in a bad column")
{
    auto r = ratio(3);
    for (std::size_t l = 0; l < r.rows(); ++l)
        if (l < 8 || l > 10) r.data()(l, 2) *= 0.8;  // good only on lines 8..10
    const auto plain = ccdmask(r);
    CHECK(!plain(8, 2));
    CHECK(!plain(9, 2));
    CHECK(!plain(10, 2));
    CHECK(count(plain) == r.rows() - 3);
    ccdmask_options o;
    o.findbadcolumns = true;
    const auto filled = ccdmask(r, o);
    CHECK(whole_column(filled, 2));
    CHECK(count(filled) == r.rows());
    // Gaps up to ngood lines are closed (as ccdproc's loop does), longer ones stay open.
    o.ngood = 3;
    CHECK(ccdmask(r, o)(9, 2));
    o.ngood = 2;
    CHECK(!ccdmask(r, o)(9, 2));
}

TEST_CASE("gap filling by hand on a mask column")
{
    // Bad lines 0, 4, 10 and 17: the gaps 1..3 (3 lines) and 5..9 (5 = ngood lines) close,
    // 11..16 (6 lines) stays open.
    ccdx::image<double> r(24, 1);
    r.data().fill(NAN);  // non-finite pixels are bad, which sets the mask directly
    for (std::size_t l : {1, 2, 3, 5, 6, 7, 8, 9, 11, 12, 13, 14, 15, 16, 18, 19, 20, 21, 22, 23}) r.data()(l, 0) = 1.0;
    ccdmask_options o;
    o.findbadcolumns = true;
    o.ncmed = o.ncsig = 1;
    const auto m = ccdmask(r, o);
    for (std::size_t l = 0; l <= 10; ++l) CHECK(m(l, 0));
    for (std::size_t l = 11; l <= 16; ++l) CHECK(!m(l, 0));
    CHECK(m(17, 0));
    for (std::size_t l = 18; l < 24; ++l) CHECK(!m(l, 0));
}

TEST_CASE("non-finite pixels are bad")
{
    auto r = ratio(4);
    r.data()(5, 5) = NAN;
    r.data()(6, 20) = INFINITY;
    for (bool byblocks : {false, true}) {
        ccdmask_options o;
        o.byblocks = byblocks;
        const auto m = ccdmask(r, o);
        CHECK(m(5, 5));
        CHECK(m(6, 20));
    }
}

TEST_CASE("the mask marks into an image as the bad bit")
{
    auto r = ratio(5);
    r.data()(1, 1) = 2.0;
    ccdx::image<double> science(r.rows(), r.cols());
    ccdx::mark_mask(science.ensure_mask(), ccdmask(r), ccdx::mask_bits::bad);
    CHECK(science.mask()(1, 1) == ccdx::mask_bits::bad);
    CHECK(science.mask()(1, 2) == 0);
}

TEST_CASE("windows must not be empty")
{
    ccdmask_options o;
    o.nlsig = 0;
    CHECK_THROWS_WITH_AS(ccdmask(ratio(), o), doctest::Contains("nlsig"), ccdx::value_error);
    o = {};
    o.ncmed = 0;
    CHECK_THROWS_WITH_AS(ccdmask(ratio(), o), doctest::Contains("ncmed"), ccdx::value_error);
}

TEST_CASE("numpy's linear percentile")
{
    const std::vector<double> v{1, 2, 3, 4};
    CHECK(ccdx::detail::linear_percentile(v, 0.0) == 1.0);
    CHECK(ccdx::detail::linear_percentile(v, 100.0) == 4.0);
    CHECK(ccdx::detail::linear_percentile(v, 50.0) == 2.5);
    // 69.1 % of 3 intervals: index 2.073 -> 3.073
    CHECK(ccdx::detail::linear_percentile(v, 69.1) == doctest::Approx(3.073));
}
