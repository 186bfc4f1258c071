#pragma once
// The numbers of a FITS data unit, decoded to native values and encoded back: big-endian
// integers and IEEE floats of every BITPIX, BZERO/BSCALE, BLANK, and the data's 32-bit ones'
// complement sum (DATASUM) taken from the encoded bytes. Plain loops over one type at a time,
// which the compiler turns into SIMD shuffles and conversions; scaled values are computed in
// double and rounded once, as cfitsio does, so that both paths give the same bits.

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <optional>
#include <type_traits>

namespace ccdx::detail {

// How an uncompressed image's stored numbers become values: BZERO + BSCALE * stored, and a
// stored BLANK (integer BITPIX only) is missing.
struct pixel_coding {
    int bitpix = 0;
    double zero = 0, scale = 1;
    std::optional<long long> blank;

    std::size_t bytes() const noexcept { return static_cast<std::size_t>(bitpix < 0 ? -bitpix : bitpix) / 8; }
};

// An a*b+c contracted into one rounding would differ from cfitsio's two in the last bit.
#if defined(__clang__)
#define CCDX_SEPARATE_ROUNDINGS _Pragma("clang fp contract(off)")
#define CCDX_SEPARATE_ROUNDINGS_FN
#elif defined(__GNUC__)
#define CCDX_SEPARATE_ROUNDINGS
#define CCDX_SEPARATE_ROUNDINGS_FN __attribute__((optimize("fp-contract=off")))
#else
#define CCDX_SEPARATE_ROUNDINGS
#define CCDX_SEPARATE_ROUNDINGS_FN
#endif

namespace pixels_detail {

template <std::size_t N>
struct word;
template <>
struct word<1> { using type = std::uint8_t; };
template <>
struct word<2> { using type = std::uint16_t; };
template <>
struct word<4> { using type = std::uint32_t; };
template <>
struct word<8> { using type = std::uint64_t; };

template <class W>
inline W swap_bytes(W w) noexcept
{
    if constexpr (sizeof(W) == 1) return w;
    else if constexpr (sizeof(W) == 2) return static_cast<W>(__builtin_bswap16(w));
    else if constexpr (sizeof(W) == 4) return __builtin_bswap32(w);
    else return __builtin_bswap64(w);
}

// The stored number of type S at p, big-endian in the file.
template <class S>
inline S from_big_endian(const unsigned char* p) noexcept
{
    using W = typename word<sizeof(S)>::type;
    W w;
    std::memcpy(&w, p, sizeof w);
    if constexpr (__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__) w = swap_bytes(w);
    S s;
    std::memcpy(&s, &w, sizeof s);
    return s;
}

template <class S>
inline void to_big_endian(S s, unsigned char* p) noexcept
{
    using W = typename word<sizeof(S)>::type;
    W w;
    std::memcpy(&w, &s, sizeof w);
    if constexpr (__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__) w = swap_bytes(w);
    std::memcpy(p, &w, sizeof w);
}

template <class S, class T>
CCDX_SEPARATE_ROUNDINGS_FN void decode_as(const unsigned char* in, std::size_t n, const pixel_coding& c, T* out)
{
    CCDX_SEPARATE_ROUNDINGS
    const double zero = c.zero, scale = c.scale;
    if constexpr (std::is_floating_point_v<S>) {
        if (zero == 0 && scale == 1) {
            for (std::size_t i = 0; i < n; ++i) out[i] = static_cast<T>(from_big_endian<S>(in + i * sizeof(S)));
        } else {
            for (std::size_t i = 0; i < n; ++i)
                out[i] = static_cast<T>(static_cast<double>(from_big_endian<S>(in + i * sizeof(S))) * scale + zero);
        }
    } else if (c.blank) {
        const long long blank = *c.blank;
        const T missing = std::numeric_limits<T>::quiet_NaN();
        for (std::size_t i = 0; i < n; ++i) {
            const S s = from_big_endian<S>(in + i * sizeof(S));
            out[i] = static_cast<long long>(s) == blank ? missing : static_cast<T>(static_cast<double>(s) * scale + zero);
        }
    } else if (sizeof(S) <= 2 && scale == 1 && zero == std::floor(zero) && std::abs(zero) < 1 << 23) {
        // Integers below 2^24 whatever T: arithmetic in T is exact, and twice as wide in float.
        const T z = static_cast<T>(zero);
        for (std::size_t i = 0; i < n; ++i) out[i] = static_cast<T>(from_big_endian<S>(in + i * sizeof(S))) + z;
    } else {
        for (std::size_t i = 0; i < n; ++i)
            out[i] = static_cast<T>(static_cast<double>(from_big_endian<S>(in + i * sizeof(S))) * scale + zero);
    }
}

}  // namespace pixels_detail

// n stored numbers at `in` (big-endian, c.bytes() each) as values of type T.
template <class T>
void decode_pixels(const unsigned char* in, std::size_t n, const pixel_coding& c, T* out)
{
    using namespace pixels_detail;
    switch (c.bitpix) {
    case 8: return decode_as<std::uint8_t>(in, n, c, out);
    case 16: return decode_as<std::int16_t>(in, n, c, out);
    case 32: return decode_as<std::int32_t>(in, n, c, out);
    case 64: return decode_as<std::int64_t>(in, n, c, out);
    case -32: return decode_as<float>(in, n, c, out);
    default: return decode_as<double>(in, n, c, out);
    }
}

// n values stored as S: float, double or uint8 as they are; int16, or uint16 (BZERO = 32768)
// when S is std::uint16_t, rounded to nearest. False when an integer type cannot hold a value
// (NaN or out of range; what was stored then is meaningless), found in the same sweep.
template <class S, class T>
bool encode_pixels(const T* in, std::size_t n, unsigned char* out)
{
    using namespace pixels_detail;
    if constexpr (std::is_floating_point_v<S> || !std::is_floating_point_v<T>) {
        for (std::size_t i = 0; i < n; ++i) to_big_endian(static_cast<S>(in[i]), out + i * sizeof(S));
        return true;
    } else {
        constexpr bool offset = std::is_same_v<S, std::uint16_t>;
        const T low = offset ? T(-0.5) : T(-32768.5), high = offset ? T(65535.5) : T(32767.5);
        unsigned inside = 1;
        for (std::size_t i = 0; i < n; ++i) {
            const T v = in[i];
            inside &= static_cast<unsigned>(v >= low) & static_cast<unsigned>(v < high);
            // Clamped first: converting NaN or a value out of range would be undefined.
            T c = v >= low ? v : low;
            c = c < high ? c : high;
            const int k = static_cast<int>(std::nearbyint(c)) - (offset ? 32768 : 0);
            to_big_endian(static_cast<std::int16_t>(k), out + 2 * i);
        }
        return inside != 0;
    }
}

// The 32-bit ones' complement sum of n bytes (n a multiple of 4) read as big-endian words,
// added to `sum`: FITS's DATASUM, and the HDU sum its CHECKSUM complements.
inline std::uint32_t ones_complement_sum(const unsigned char* p, std::size_t n, std::uint32_t sum = 0) noexcept
{
    std::uint64_t total = sum;
    // Partial sums of up to 2^32 words cannot overflow 64 bits; the carries wrap around after.
    constexpr std::size_t stretch = std::size_t{1} << 30;
    for (std::size_t at = 0; at < n; at += stretch) {
        const std::size_t end = n - at < stretch ? n : at + stretch;
        std::uint64_t part = 0;
        for (std::size_t i = at; i < end; i += 4) part += pixels_detail::from_big_endian<std::uint32_t>(p + i);
        total += part;
        while (total >> 32) total = (total & 0xFFFFFFFFu) + (total >> 32);
    }
    return static_cast<std::uint32_t>(total);
}

inline std::uint32_t ones_complement_add(std::uint32_t a, std::uint32_t b) noexcept
{
    std::uint64_t s = std::uint64_t{a} + b;
    return static_cast<std::uint32_t>((s & 0xFFFFFFFFu) + (s >> 32));
}

}  // namespace ccdx::detail
