// ccdproc's test_bitfield.py: bitfield_to_boolean_mask rejects malformed flags.
#include <doctest/doctest.h>

#include <cstdint>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include <ccdx/core/mask.hpp>

using ccdx::bitfield_to_boolean_mask;

namespace {

// ccdproc draws randint(0, 10, (10, 10)) unseeded; any values 0..9 serve, these cover them all.
xt::xtensor<std::int64_t, 2> bit_field()
{
    xt::xtensor<std::int64_t, 2> bm = xt::xtensor<std::int64_t, 2>::from_shape({10, 10});
    for (std::size_t i = 0; i < bm.size(); ++i) bm.data()[i] = std::int64_t(i % 10);
    return bm;
}

}  // namespace

TEST_CASE("test_bitfield_negative_flags")
{
    const std::vector<std::int64_t> flags{-1};
    CHECK_THROWS_AS(bitfield_to_boolean_mask(bit_field(), flags), ccdx::value_error);
}

TEST_CASE("test_bitfield_non_poweroftwo_flags")
{
    const std::vector<std::int64_t> flags{3};
    CHECK_THROWS_AS(bitfield_to_boolean_mask(bit_field(), flags), ccdx::value_error);
}

TEST_CASE("test_bitfield_string_flag_flip_not_start_of_string")
{
    CHECK_THROWS_AS(bitfield_to_boolean_mask(bit_field(), "1, ~4"), ccdx::value_error);
}

TEST_CASE("test_bitfield_string_flag_unbalanced_parens")
{
    CHECK_THROWS_AS(bitfield_to_boolean_mask(bit_field(), "(1, 4))"), ccdx::value_error);
}

TEST_CASE("test_bitfield_string_flag_wrong_positioned_parens")
{
    CHECK_THROWS_AS(bitfield_to_boolean_mask(bit_field(), "((1, )4)"), ccdx::value_error);
}

TEST_CASE("test_bitfield_string_flag_empty")
{
    CHECK_THROWS_AS(bitfield_to_boolean_mask(bit_field(), "~"), ccdx::value_error);
}

TEST_CASE("test_bitfield_duplicate_flag_throws_warning" * doctest::skip())
{
    // ccdproc warns "Duplicate bit flags will be ignored"; with no handler ccdx warns on std::clog.
    std::ostringstream captured;
    std::streambuf* const old = std::clog.rdbuf(captured.rdbuf());
    const std::vector<std::int64_t> flags{1, 1};
    const auto m = bitfield_to_boolean_mask(bit_field(), flags);
    std::clog.rdbuf(old);
    CHECK(captured.str().find("uplicate") != std::string::npos);
    CHECK(m(0, 1) == false);  // the duplicate still ignores bit 1
}

TEST_CASE("test_bitfield_none_identical_to_strNone")
{
    // ccdproc's ignore_flags=None is, in ccdx's text form, "None": no pixel is bad. The C++
    // calls have no None besides the text, so the check is that "None" and its synonyms agree
    // with the all-good mask ccdproc's None gives (printed by ccdproc: b(bm, None).any() is False).
    const auto bm = bit_field();
    const auto m_none = bitfield_to_boolean_mask(bm, "None");
    CHECK_FALSE(xt::any(m_none));
    CHECK(m_none == bitfield_to_boolean_mask(bm, "INDEF"));
    CHECK(m_none == bitfield_to_boolean_mask(bm, ""));
    // ... and differs from ignoring nothing (ignore_flags=0), where nine pixels in ten are bad.
    CHECK(xt::sum(bitfield_to_boolean_mask(bm))() == 90);
}
