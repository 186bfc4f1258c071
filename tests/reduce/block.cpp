#include <doctest/doctest.h>

#include <cmath>

#include <ccdx/reduce/block.hpp>

#include "frames.hpp"

using ccdx::image;
using ccdx::unit;

namespace {

image<double> m13(std::size_t rows, std::size_t cols)
{
    auto img = fixtures::arange(rows, cols, "frame");
    img.header().set("OBJECT", std::string("M13"));
    return img;
}

}  // namespace

TEST_CASE("block_reduce sums blocks; block_average takes their mean")
{
    // astropy's example: arange(16) as 4 x 4, blocks of 2 -> [[10, 18], [42, 50]]; mean -> /4.
    const auto img = m13(4, 4);
    const auto sum = ccdx::block_reduce(img, 2);
    REQUIRE(sum.shape() == ccdx::shape2{2, 2});
    CHECK(sum.data()(0, 0) == 10);
    CHECK(sum.data()(0, 1) == 18);
    CHECK(sum.data()(1, 0) == 42);
    CHECK(sum.data()(1, 1) == 50);
    const auto mean = ccdx::block_average(img, 2);
    CHECK(mean.data()(0, 0) == 2.5);
    CHECK(mean.data()(1, 1) == 12.5);
    CHECK(mean.unit() == unit("adu"));
    CHECK(mean.header().value<std::string>("OBJECT") == "M13");
    CHECK_FALSE(mean.has_uncertainty());
    CHECK_FALSE(mean.has_mask());
}

TEST_CASE("block_reduce drops partial blocks at the far edges, per axis")
{
    // 5 x 7 in blocks of 2 x 3 -> 2 x 2, from rows 0..3 and columns 0..5.
    const auto img = m13(5, 7);
    const auto sum = ccdx::block_reduce(img, ccdx::block_size(2, 3));
    REQUIRE(sum.shape() == ccdx::shape2{2, 2});
    CHECK(sum.data()(0, 0) == 0 + 1 + 2 + 7 + 8 + 9);
    CHECK(sum.data()(1, 1) == 17 + 18 + 19 + 24 + 25 + 26);
}

TEST_CASE("block operations propagate uncertainty and mask, which the reference drops")
{
    auto img = m13(4, 4);
    xt::xtensor<double, 2> sigma = xt::ones<double>({4, 4}) * 2.0;
    sigma(0, 0) = 4;
    img.set_uncertainty(sigma);
    img.ensure_mask()(3, 3) = 4;
    img.mask()(3, 2) = 1;

    const auto sum = ccdx::block_reduce(img, 2);
    CHECK(sum.uncertainty()(0, 0) == doctest::Approx(std::sqrt(16.0 + 4 + 4 + 4)));  // variances add
    CHECK(sum.uncertainty()(1, 0) == doctest::Approx(4));
    CHECK(sum.mask()(1, 1) == 5);  // any masked pixel masks the block; the bits are OR'd
    CHECK(sum.mask()(0, 0) == 0);

    const auto mean = ccdx::block_average(img, 2);
    CHECK(mean.uncertainty()(1, 0) == doctest::Approx(1));  // sqrt(4 * 4) / 4

    const auto big = ccdx::block_replicate(img, 2);
    REQUIRE(big.shape() == ccdx::shape2{8, 8});
    CHECK(big.uncertainty()(1, 1) == doctest::Approx(1));  // 4 / area
    CHECK(big.mask()(7, 7) == 4);
    CHECK(big.mask()(6, 5) == 1);
}

TEST_CASE("block_replicate conserves the sum unless asked not to")
{
    // The reference's test: 4 x 4 ones in blocks of 2 -> 8 x 8 of 0.25.
    image<double> ones(4, 4, unit("adu"));
    ones.data().fill(1);
    const auto spread = ccdx::block_replicate(ones, 2);
    CHECK(spread.data()(7, 7) == 0.25);
    CHECK(xt::sum(spread.data())() == doctest::Approx(16));
    const auto copied = ccdx::block_replicate(m13(2, 3), ccdx::block_size(3, 2), false);
    REQUIRE(copied.shape() == ccdx::shape2{6, 6});
    CHECK(copied.data()(5, 5) == 5);
    CHECK(copied.data()(2, 3) == 1);
}

TEST_CASE("block sizes must be positive and fit the image")
{
    const auto img = m13(4, 4);
    CHECK_THROWS_AS(ccdx::block_reduce(img, 0), ccdx::value_error);
    CHECK_THROWS_AS(ccdx::block_replicate(img, ccdx::block_size(1, 0)), ccdx::value_error);
    CHECK_THROWS_WITH_AS(ccdx::block_average(img, ccdx::block_size(5, 1)), doctest::Contains("(5, 1)"),
                         ccdx::value_error);
}
