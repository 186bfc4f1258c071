#pragma once
// The few operations whose spelling differs between an xsimd batch and a lone scalar (the
// row's tail), so that every node is written once for both.

#include <cmath>
#include <cstddef>
#include <cstdint>

#include <xsimd/xsimd.hpp>

#include "ccdx/expr/detail/simd.hpp"

namespace ccdx::detail {

template <class B, class C>
inline B select(const C& condition, const B& a, const B& b) noexcept
{
    if constexpr (lanes_v<B> == 1)
        return condition ? a : b;
    else
        return xsimd::select(condition, a, b);
}

template <class C>
inline C logical_not(const C& c) noexcept
{
    if constexpr (std::is_same_v<C, bool>)
        return !c;
    else
        return ~c;
}

template <class B>
inline condition_t<B> is_nan(const B& v) noexcept
{
    if constexpr (lanes_v<B> == 1)
        return std::isnan(v);
    else
        return xsimd::isnan(v);
}

// NaN-propagating like numpy's minimum/maximum: a NaN operand gives NaN.
template <class B>
inline B minimum(const B& a, const B& b) noexcept
{
    return select(is_nan(a), a, select(b < a, b, a));
}
template <class B>
inline B maximum(const B& a, const B& b) noexcept
{
    return select(is_nan(a), a, select(b > a, b, a));
}

CCDX_INTRINSICS_BEGIN
template <class B>
inline B square_root(const B& v) noexcept
{
    if constexpr (lanes_v<B> == 1)
        return std::sqrt(v);
    else
        return xsimd::sqrt(v);
}
CCDX_INTRINSICS_END

// Loads N values of type U as a batch of B's value type, converting when they differ (a
// double image in a float evaluation, say) and walking backwards for a reversed axis.
template <class B, class U>
inline B load_as(const U* p, std::ptrdiff_t step = 1) noexcept
{
    using T = typename lanes<B>::value_type;
    if constexpr (lanes_v<B> == 1) {
        return static_cast<T>(*p);
    } else {
        if constexpr (std::is_same_v<T, U>) {
            if (step == 1) return B::load_unaligned(p);
        }
        alignas(64) T tmp[lanes_v<B>];
        for (std::size_t i = 0; i < lanes_v<B>; ++i)
            tmp[i] = static_cast<T>(p[static_cast<std::ptrdiff_t>(i) * step]);
        return B::load_aligned(tmp);
    }
}

template <std::size_t N>
inline mask_pack<N> load_mask(const std::uint8_t* p, std::ptrdiff_t step = 1) noexcept
{
    if (step == 1) return mask_pack<N>::load(p);
    std::uint8_t tmp[N];
    for (std::size_t i = 0; i < N; ++i) tmp[i] = p[static_cast<std::ptrdiff_t>(i) * step];
    return mask_pack<N>::load(tmp);
}

// True where any mask bit is set.
template <class B, std::size_t N>
inline condition_t<B> any_bits(const mask_pack<N>& m) noexcept
{
    if constexpr (N == 1) {
        return (m.w[0] & 0xFFu) != 0;
    } else {
        using T = typename lanes<B>::value_type;
        std::uint8_t bytes[N];
        m.store(bytes);
        alignas(64) T tmp[N];
        for (std::size_t i = 0; i < N; ++i) tmp[i] = static_cast<T>(bytes[i]);
        return B::load_aligned(tmp) != B(T(0));
    }
}

}  // namespace ccdx::detail
