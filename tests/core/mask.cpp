#include <doctest/doctest.h>

#include <cstdint>
#include <filesystem>
#include <string>
#include <random>
#include <vector>

#include <xtensor/xtensor.hpp>

#include "ccdx/core/mask.hpp"
#include "ccdx/io/fits.hpp"

using ccdx::bitfield_to_boolean_mask;
using ccdx::interpret_bit_flags;

namespace {

// The example array of ccdproc's documentation: one row [0, 1, 2, 3, 4, 5, 8].
xt::xtensor<std::int32_t, 2> example() { return {{0, 1, 2, 3, 4, 5, 8}}; }

std::vector<bool> row(const xt::xtensor<bool, 2>& m)
{
    return std::vector<bool>(m.begin(), m.end());
}

}  // namespace

TEST_CASE("mask bit planes are distinct single bits")
{
    using namespace ccdx::mask_bits;
    const ccdx::mask_t planes[] = {bad, saturated, cosmic_ray, hot, dead, user1, user2, user3};
    unsigned seen = 0;
    for (auto p : planes) {
        CHECK(p != 0);
        CHECK((p & (p - 1)) == 0);
        CHECK((seen & p) == 0);
        seen |= p;
    }
    CHECK(seen == all);
    CHECK(ccdx::has_bits(cosmic_ray | hot, hot));
    CHECK_FALSE(ccdx::has_bits(cosmic_ray | hot, saturated | bad));
}

TEST_CASE("bitfield_to_boolean_mask: every set bit is bad unless ignored")
{
    CHECK(row(bitfield_to_boolean_mask(example())) == std::vector<bool>{false, true, true, true, true, true, true});
    CHECK(row(bitfield_to_boolean_mask(example(), 1)) ==
          std::vector<bool>{false, false, true, true, true, true, true});
    CHECK(row(bitfield_to_boolean_mask(example(), 1 | 4)) ==
          std::vector<bool>{false, false, true, true, false, false, true});
}

TEST_CASE("bitfield_to_boolean_mask: flipped flags are the only bits that count")
{
    const std::vector<bool> only4{false, false, false, false, true, true, false};
    CHECK(row(bitfield_to_boolean_mask(example(), "~4")) == only4);
    CHECK(row(bitfield_to_boolean_mask(example(), 4, true)) == only4);
    CHECK(row(bitfield_to_boolean_mask(example(), std::vector<std::int64_t>{4}, true)) == only4);
    CHECK(row(bitfield_to_boolean_mask(example(), "~(4+8)")) ==
          std::vector<bool>{false, false, false, false, true, true, true});
}

TEST_CASE("bit flags as text and as lists agree")
{
    CHECK(*interpret_bit_flags("1,4") == 5u);
    CHECK(*interpret_bit_flags(" 1 + 4 ") == 5u);
    CHECK(*interpret_bit_flags("(1,4)") == 5u);
    CHECK(*interpret_bit_flags("((1,4))") == 5u);
    CHECK(*interpret_bit_flags("6") == 6u);  // one number is the mask itself
    CHECK(*interpret_bit_flags("~(1,4)") == ~std::uint64_t{5});
    CHECK(interpret_bit_flags(std::vector<std::int64_t>{1, 4}) == 5u);
    CHECK(interpret_bit_flags(std::vector<std::int64_t>{1, 1}) == 1u);  // repeats count once
    CHECK(interpret_bit_flags(std::vector<std::int64_t>{2}, true) == ~std::uint64_t{2});
}

TEST_CASE("'None' means no mask")
{
    CHECK_FALSE(interpret_bit_flags("None").has_value());
    CHECK_FALSE(interpret_bit_flags("INDEF").has_value());
    CHECK_FALSE(interpret_bit_flags("").has_value());
    const auto m = bitfield_to_boolean_mask(example(), "None");
    CHECK(m.shape()[1] == 7);
    CHECK(row(m) == std::vector<bool>(7, false));
}

TEST_CASE("malformed bit flags are rejected with the offending text")
{
    CHECK_THROWS_AS(interpret_bit_flags(std::vector<std::int64_t>{-1}), ccdx::value_error);
    CHECK_THROWS_AS(interpret_bit_flags(std::vector<std::int64_t>{3}), ccdx::value_error);
    CHECK_THROWS_AS(interpret_bit_flags(std::vector<std::int64_t>{0}), ccdx::value_error);
    CHECK_THROWS_AS(interpret_bit_flags("1,3"), ccdx::value_error);
    CHECK_THROWS_WITH_AS(interpret_bit_flags("1, ~4"), doctest::Contains("'1, ~4'"), ccdx::value_error);
    CHECK_THROWS_WITH_AS(interpret_bit_flags("(1, 4))"), doctest::Contains("unbalanced"), ccdx::value_error);
    CHECK_THROWS_AS(interpret_bit_flags("((1, )4)"), ccdx::value_error);
    CHECK_THROWS_AS(interpret_bit_flags("~"), ccdx::value_error);
    CHECK_THROWS_AS(interpret_bit_flags("1.3"), ccdx::value_error);
    CHECK_THROWS_AS(interpret_bit_flags("1,,4"), ccdx::value_error);
}

TEST_CASE("only the bits of the element type count")
{
    // -1 in 16 bits is 0xFFFF; a flag above bit 15 cannot select any of it.
    xt::xtensor<std::int16_t, 2> b{{-1, 0}};
    CHECK(row(bitfield_to_boolean_mask(b, std::uint64_t{1} << 20, true)) == std::vector<bool>{false, false});
    CHECK(row(bitfield_to_boolean_mask(b, std::uint64_t{1} << 15, true)) == std::vector<bool>{true, false});
    xt::xtensor<std::uint8_t, 2> u{{0x80, 0x7f}};
    CHECK(row(bitfield_to_boolean_mask(u, 0x7f)) == std::vector<bool>{true, false});
}

TEST_CASE("mark_mask ORs a bit where a condition holds")
{
    xt::xtensor<ccdx::mask_t, 2> m{{0, ccdx::mask_bits::bad}, {0, 0}};
    xt::xtensor<bool, 2> hit{{true, true}, {false, true}};
    ccdx::mark_mask(m, hit, ccdx::mask_bits::cosmic_ray);
    CHECK(m(0, 0) == ccdx::mask_bits::cosmic_ray);
    CHECK(m(0, 1) == (ccdx::mask_bits::bad | ccdx::mask_bits::cosmic_ray));
    CHECK(m(1, 0) == 0);
    CHECK(m(1, 1) == ccdx::mask_bits::cosmic_ray);
    xt::xtensor<bool, 2> wrong{{true}};
    CHECK_THROWS_AS(ccdx::mark_mask(m, wrong, 1), ccdx::shape_error);
}

TEST_CASE("mask bits survive a FITS MASK extension as the integers they are")
{
    using namespace ccdx::mask_bits;
    ccdx::image<float> img(2, 3, ccdx::unit("adu"));
    img.ensure_mask()(0, 0) = cosmic_ray | saturated;
    img.mask()(0, 2) = bad;
    img.mask()(1, 1) = all;
    const auto path = std::filesystem::temp_directory_path() /
                      ("ccdx_mask_bits_" + std::to_string(std::random_device{}()) + ".fits");
    ccdx::write_fits(img, path);
    const auto back = ccdx::read_fits<float>(path);
    std::filesystem::remove(path);
    REQUIRE(back.has_mask());
    CHECK(back.mask()(0, 0) == (cosmic_ray | saturated));
    CHECK(back.mask()(0, 2) == bad);
    CHECK(back.mask()(1, 1) == all);
    CHECK(back.mask()(1, 0) == 0);
}
