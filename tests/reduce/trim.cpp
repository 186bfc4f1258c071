#include <doctest/doctest.h>

#include <string>

#include <ccdx/ccdx.hpp>
#include <ccdx/reduce/trim.hpp>

#include "frames.hpp"

using ccdx::image;
using ccdx::unit;
using fixtures::arange;

TEST_CASE("trim_image keeps the section's pixels, uncertainty and mask")
{
    // ccdproc's test: '[20:40,:]' on 50 x 50 keeps columns 19..39 of every row.
    auto raw = arange(50, 50);
    xt::xtensor<double, 2> sigma = raw.data() * 0.5;
    raw.set_uncertainty(sigma);
    raw.ensure_mask()(7, 25) = 1;
    const image<double> out = ccdx::trim_image(raw, "[20:40,:]");
    REQUIRE(out.shape() == ccdx::shape2{50, 21});
    CHECK(out.data()(0, 0) == 19);
    CHECK(out.data()(49, 20) == 49 * 50 + 39);
    CHECK(out.uncertainty()(3, 1) == doctest::Approx(0.5 * (3 * 50 + 20)));
    CHECK(out.mask()(7, 6) == 1);
    CHECK(out.header().value<std::string>("TRIMIM") == "ccd=<CCDData>, fits_section=[20:40,:]");
}

TEST_CASE("trim_image is a view: no copy until evaluated, and it composes with other steps")
{
    const auto raw = arange(6, 8);
    auto e = ccdx::trim_image(raw - 1.0, "[2:3,4:5]");
    CHECK(e.shape() == ccdx::shape2{2, 2});
    const image<double> out = e;
    CHECK(out.data()(0, 0) == 3 * 8 + 1 - 1);
    CHECK(out.data()(1, 1) == 4 * 8 + 2 - 1);
}

TEST_CASE("trim_image moves the WCS reference pixel and re-expresses the pixel sections")
{
    auto raw = arange(40, 60);
    raw.header().set("CRPIX1", 30.5);
    raw.header().set("CRPIX2", 20.0);
    raw.header().set("LTV1", 0.0);
    raw.header().set("DATASEC", std::string("[1:50,1:40]"));
    raw.header().set("BIASSEC", std::string("[51:60,1:40]"));
    raw.header().set("TRIMSEC", std::string("[1:4096, :]"));  // written for a larger original frame
    const image<double> out = ccdx::trim_image(raw, "[3:50,11:40]");
    CHECK(out.header().value<double>("CRPIX1") == doctest::Approx(28.5));
    CHECK(out.header().value<double>("CRPIX2") == doctest::Approx(10));
    CHECK(out.header().value<double>("LTV1") == doctest::Approx(-2));
    CHECK(out.header().value<std::string>("DATASEC") == "[1:48,1:30]");
    CHECK_FALSE(out.header().contains("BIASSEC"));  // the overscan is gone
    CHECK(out.header().value<std::string>("TRIMSEC") == "[1:4096, :]");
    CHECK(raw.header().value<double>("CRPIX1") == 30.5);  // the input's header is untouched
}

TEST_CASE("trim_image errors")
{
    const auto raw = arange(10, 10);
    CHECK_THROWS_AS(ccdx::trim_image(raw, "[1:11,*]"), ccdx::section_error);  // the reference clips silently
    CHECK_THROWS_AS(ccdx::trim_image(raw, "[0:5,*]"), ccdx::section_error);
    CHECK_THROWS_AS(ccdx::trim_image(raw, "1:5,*"), ccdx::section_error);
    CHECK_THROWS_WITH_AS(ccdx::trim_image(raw, "[5:1,*]"), doctest::Contains("reversed"), ccdx::section_error);
}
