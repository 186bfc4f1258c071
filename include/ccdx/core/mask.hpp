#pragma once
// Mask bit planes and bit-field masks.
//
// An image's mask is one byte per pixel; nonzero means bad. Each kind of defect has its own
// bit, so a reduction can tell why a pixel was rejected: the detectors OR their bit in
// (cosmicray_median and cosmicray_lacosmic set cosmic_ray, ccdmask sets bad, a saturation
// test sets saturated) and every expression and combine ORs the masks of its operands.
// Written to a FITS MASK extension, the byte is kept as the integer it is.
//
// bitfield_to_boolean_mask turns such a bit field (or a data-quality array from another
// pipeline) into a boolean mask, ignoring chosen bits, as ccdproc's function of that name.

#include <cctype>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include <xtensor/xexpression.hpp>
#include <xtensor/xtensor.hpp>

#include "ccdx/core/error.hpp"

namespace ccdx {

// One byte per pixel (as in image.hpp, which the alias repeats so that this header stands alone).
using mask_t = std::uint8_t;

// Named bit planes of mask_t. A mask read from a file written elsewhere holds whatever
// integers that file holds; these are the meanings ccdx gives the bits it sets itself.
namespace mask_bits {
inline constexpr mask_t bad = 1;          // a bad pixel in general (ccdmask, a bad-pixel map, NaN)
inline constexpr mask_t saturated = 2;    // at or above the saturation level
inline constexpr mask_t cosmic_ray = 4;   // hit by a cosmic ray
inline constexpr mask_t hot = 8;          // excess dark current
inline constexpr mask_t dead = 16;        // no or little response
inline constexpr mask_t user1 = 32;       // free for the user
inline constexpr mask_t user2 = 64;
inline constexpr mask_t user3 = 128;
inline constexpr mask_t none = 0;
inline constexpr mask_t all = 0xFF;
}  // namespace mask_bits

// Whether `m` has any of `bits` set.
constexpr bool has_bits(mask_t m, mask_t bits) noexcept { return (m & bits) != 0; }

namespace detail {

inline bool is_bit_flag(std::int64_t v) noexcept { return v > 0 && (v & (v - 1)) == 0; }

inline std::string_view strip_spaces(std::string_view s) noexcept
{
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
    return s;
}

inline std::int64_t parse_flag(std::string_view item, std::string_view whole)
{
    std::string_view t = strip_spaces(item);
    std::size_t i = (!t.empty() && (t[0] == '+' || t[0] == '-')) ? 1 : 0;
    if (i == t.size()) throw value_error("bit flag list '" + std::string(whole) + "' has an empty or malformed item");
    for (std::size_t k = i; k < t.size(); ++k)
        if (!std::isdigit(static_cast<unsigned char>(t[k])))
            throw value_error("bit flag '" + std::string(t) + "' in '" + std::string(whole) + "' is not an integer");
    try {
        return std::stoll(std::string(t));
    } catch (const std::out_of_range&) {
        throw value_error("bit flag '" + std::string(t) + "' in '" + std::string(whole) + "' is out of range");
    }
}

}  // namespace detail

// The bits to ignore given as a list of flags, each a power of two (1, 2, 4, ...); with
// `flip`, the listed bits are the only ones that count and every other bit is ignored.
// Repeated flags count once.
inline std::uint64_t interpret_bit_flags(const std::vector<std::int64_t>& flags, bool flip = false)
{
    std::uint64_t bits = 0;
    for (std::int64_t f : flags) {
        if (!detail::is_bit_flag(f))
            throw value_error("bit flag " + std::to_string(f) + " is not a positive power of two");
        bits |= static_cast<std::uint64_t>(f);
    }
    return flip ? ~bits : bits;
}

// The bits to ignore given as text, as in a configuration file: "4", "1,4", "1+4", "(1+4)";
// a leading "~" means the listed bits are the only ones that count ("~4": only bit 4).
// A single number need not be a power of two ("6" ignores bits 2 and 4). "", "None" and
// "INDEF" mean no mask at all: nullopt, so that every pixel is good.
inline std::optional<std::uint64_t> interpret_bit_flags(std::string_view text)
{
    const std::string_view whole = text;
    std::string_view s = detail::strip_spaces(text);
    std::string upper(s);
    for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    if (upper.empty() || upper == "NONE" || upper == "INDEF") return std::nullopt;

    bool flip = false;
    const auto tilde = s.find('~');
    if (tilde == 0) {
        flip = true;
        s = detail::strip_spaces(s.substr(1));
    } else if (tilde != std::string_view::npos) {
        throw value_error("bit flag list '" + std::string(whole) + "': '~' must come first");
    }

    // Parentheses may only wrap the whole list (possibly repeatedly).
    while (s.find('(') != std::string_view::npos || s.find(')') != std::string_view::npos) {
        std::size_t open = 0, close = 0;
        for (char c : s) {
            open += c == '(';
            close += c == ')';
        }
        if (open != close)
            throw value_error("bit flag list '" + std::string(whole) + "' has unbalanced parentheses");
        if (s.front() != '(' || s.back() != ')')
            throw value_error("bit flag list '" + std::string(whole) + "' uses parentheses other than around the whole list");
        s = detail::strip_spaces(s.substr(1, s.size() - 2));
    }

    const char sep = s.find(',') != std::string_view::npos ? ',' : '+';
    std::vector<std::int64_t> flags;
    if (s.find(sep) == std::string_view::npos) {
        if (s.empty()) throw value_error("bit flag list '" + std::string(whole) + "' is empty");
        // A single value is taken as the bit mask itself.
        const auto bits = static_cast<std::uint64_t>(detail::parse_flag(s, whole));
        return flip ? ~bits : bits;
    }
    for (std::size_t start = 0;;) {
        const std::size_t end = s.find(sep, start);
        flags.push_back(detail::parse_flag(s.substr(start, end - start), whole));
        if (end == std::string_view::npos) break;
        start = end + 1;
    }
    return interpret_bit_flags(flags, flip);
}

// True where `bitfield` has a bit set outside `ignore_bits` (true = bad), for any integer
// array. With `flip`, `ignore_bits` lists the only bits that count.
template <class E>
xt::xtensor<bool, 2> bitfield_to_boolean_mask(const xt::xexpression<E>& bitfield, std::uint64_t ignore_bits = 0,
                                              bool flip = false)
{
    using value_type = typename E::value_type;
    static_assert(std::is_integral_v<value_type> && !std::is_same_v<value_type, bool>,
                  "bitfield_to_boolean_mask needs an integer bit field");
    using bits_type = std::make_unsigned_t<value_type>;
    // Only the bits the element type holds can count.
    const auto keep = static_cast<bits_type>(flip ? ignore_bits : ~ignore_bits);
    const auto& b = bitfield.derived_cast();
    if (b.dimension() != 2) throw shape_error("bitfield_to_boolean_mask needs a 2-D bit field");
    xt::xtensor<bool, 2> out = xt::xtensor<bool, 2>::from_shape({b.shape()[0], b.shape()[1]});
    auto o = out.begin();
    for (auto it = b.begin(); it != b.end(); ++it, ++o)
        *o = (static_cast<bits_type>(*it) & keep) != 0;
    return out;
}

// Bits to ignore as a list of power-of-two flags (see interpret_bit_flags).
template <class E>
xt::xtensor<bool, 2> bitfield_to_boolean_mask(const xt::xexpression<E>& bitfield,
                                              const std::vector<std::int64_t>& ignore_flags, bool flip = false)
{
    return bitfield_to_boolean_mask(bitfield, interpret_bit_flags(ignore_flags, flip));
}

// Bits to ignore as text (see interpret_bit_flags); "None" gives an all-good mask.
template <class E>
xt::xtensor<bool, 2> bitfield_to_boolean_mask(const xt::xexpression<E>& bitfield, std::string_view ignore_flags)
{
    const auto bits = interpret_bit_flags(ignore_flags);
    if (!bits) {
        const auto& b = bitfield.derived_cast();
        if (b.dimension() != 2) throw shape_error("bitfield_to_boolean_mask needs a 2-D bit field");
        xt::xtensor<bool, 2> out = xt::xtensor<bool, 2>::from_shape({b.shape()[0], b.shape()[1]});
        out.fill(false);
        return out;
    }
    return bitfield_to_boolean_mask(bitfield, *bits);
}

// ORs `bits` into `mask` wherever `where` is true (shapes must match).
template <class E>
void mark_mask(xt::xtensor<mask_t, 2>& mask, const xt::xexpression<E>& where, mask_t bits)
{
    const auto& w = where.derived_cast();
    if (w.dimension() != 2 || w.shape()[0] != mask.shape()[0] || w.shape()[1] != mask.shape()[1])
        throw shape_error("mark_mask: condition shape does not match the mask shape (" +
                          std::to_string(mask.shape()[0]) + ", " + std::to_string(mask.shape()[1]) + ")");
    auto m = mask.begin();
    for (auto it = w.begin(); it != w.end(); ++it, ++m)
        if (*it) *m = static_cast<mask_t>(*m | bits);
}

}  // namespace ccdx
