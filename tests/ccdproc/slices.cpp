// ccdproc's utils/tests/test_slices.py: slice_from_string in the FITS convention is ccdx's
// parse_section (0-based half-open ranges, a reversed flag where numpy would step by -1).
// Sections are strict in ccdx (README, "differs on purpose"): steps and one-axis strings are
// section_errors, so the parts of these tests that use them check that instead.
#include <doctest/doctest.h>

#include <ccdx/core/section.hpp>

using ccdx::axis_range;
using ccdx::parse_section;

TEST_CASE("test_slice_from_string_needs_enclosing_brackets")
{
    CHECK_THROWS_AS(parse_section("1:2"), ccdx::section_error);
    CHECK_THROWS_AS(parse_section("[1:2"), ccdx::section_error);
    CHECK_THROWS_AS(parse_section("1:2]"), ccdx::section_error);
}

TEST_CASE("test_slice_from_string_fits_style")
{
    // '[1:5, :]': the rows (second, after reversal) are whole, the columns 0..5.
    const auto s = parse_section("[1:5, :]", 100, 200);
    CHECK(s.rows == axis_range{0, 100, false});
    CHECK(s.cols == axis_range{0, 5, false});
    // ccdproc: '[1:10:2, 4:5:2]' -> (slice(3, 5, 2), slice(0, 10, 2)); a step is refused here.
    CHECK_THROWS_AS(parse_section("[1:10:2, 4:5:2]", 100, 200), ccdx::section_error);
}

TEST_CASE("test_slice_from_string_fits_inverted")
{
    // ccdproc's '[20:10:2, 10:5, 5:4]' has three axes and a step, both refused here.
    CHECK_THROWS_AS(parse_section("[20:10:2, 10:5, 5:4]", 100, 100), ccdx::section_error);
    // Its step-free axes: '10:5' is slice(9, 3, -1), pixels 9..4, and '5:4' slice(4, 2, -1), pixels 4..3.
    const auto s = parse_section("[10:5, 5:4]", 100, 100);
    CHECK(s.cols == axis_range{4, 10, true});
    CHECK(s.rows == axis_range{3, 5, true});
    // The stop-at-1 special case without a step: '2:1' is slice(1, None, -1), pixels 1..0.
    CHECK(parse_section("[2:1, 1:1]", 100, 100).cols == axis_range{0, 2, true});
    CHECK_THROWS_AS(parse_section("[20:1:4, 21:1:4]", 100, 100), ccdx::section_error);
}

TEST_CASE("test_slice_from_string_bad_fits_slice")
{
    CHECK_THROWS_AS(parse_section("[0:10, 1:5]"), ccdx::section_error);   // 0 is not a FITS index
    CHECK_THROWS_AS(parse_section("[1:5, 0:10]"), ccdx::section_error);   // on either axis
    CHECK_THROWS_AS(parse_section("[1:10, 10:-1]"), ccdx::section_error); // nor is a negative one
}

TEST_CASE("test_slice_from_string_fits_wildcard")
{
    // '[*,-*]': the rows (second axis) reversed whole, the columns whole.
    const auto s = parse_section("[*,-*]", 30, 40);
    CHECK(s.rows == axis_range{0, 30, true});
    CHECK(s.cols == axis_range{0, 40, false});
    // ccdproc: '[*:2,-*:2]' -> (slice(None, None, -2), slice(None, None, 2)); steps are refused here.
    CHECK_THROWS_AS(parse_section("[*:2,-*:2]", 30, 40), ccdx::section_error);
}
