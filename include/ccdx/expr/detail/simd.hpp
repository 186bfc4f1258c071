#pragma once
// What the evaluator needs to treat a SIMD batch and a lone scalar (the row's tail) alike.

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <type_traits>

#include <xsimd/xsimd.hpp>

// g++ 12 warns, falsely, that its AVX-512 intrinsics (sqrt, min, max) read their undefined
// pass-through register (GCC bug 105593): "may be used" or "is used uninitialized" depending
// on the optimisation level, in whatever function they are inlined into. Code that calls them
// sits between these two markers.
#if defined(__GNUC__) && !defined(__clang__)
#define CCDX_INTRINSICS_BEGIN                                       \
    _Pragma("GCC diagnostic push")                                  \
    _Pragma("GCC diagnostic ignored \"-Wmaybe-uninitialized\"")   \
    _Pragma("GCC diagnostic ignored \"-Wuninitialized\"")
#define CCDX_INTRINSICS_END _Pragma("GCC diagnostic pop")
#else
#define CCDX_INTRINSICS_BEGIN
#define CCDX_INTRINSICS_END
#endif

// A deep expression tree (a whole ccd_process) exceeds GCC's inlining budget, and a load()
// left as a call returns its batches through memory: twice the time of the pass. The loads
// of such trees are forced inline.
#if defined(__GNUC__)
#define CCDX_FORCE_INLINE inline __attribute__((always_inline))
#else
#define CCDX_FORCE_INLINE inline
#endif

namespace ccdx::detail {

template <class B>
struct lanes : std::integral_constant<std::size_t, 1> {
    using value_type = B;
    using condition = bool;
};

template <class T, class A>
struct lanes<xsimd::batch<T, A>> : std::integral_constant<std::size_t, xsimd::batch<T, A>::size> {
    using value_type = T;
    using condition = xsimd::batch_bool<T, A>;
};

template <class B>
inline constexpr std::size_t lanes_v = lanes<B>::value;

template <class B>
using condition_t = typename lanes<B>::condition;

template <class B>
inline B load(const typename lanes<B>::value_type* p) noexcept
{
    if constexpr (lanes_v<B> == 1)
        return *p;
    else
        return B::load_unaligned(p);
}

template <class B>
inline void store(typename lanes<B>::value_type* p, const B& v) noexcept
{
    if constexpr (lanes_v<B> == 1)
        *p = v;
    else
        v.store_unaligned(p);
}

template <class B>
inline B broadcast(typename lanes<B>::value_type v) noexcept
{
    return B(v);
}

// The mask bytes of N pixels held in 64-bit words, so that OR-ing mask planes is a handful of
// word operations per batch instead of N byte operations the compiler may leave scalar.
template <std::size_t N>
struct mask_pack {
    static constexpr std::size_t words = (N + 7) / 8;
    std::uint64_t w[words] = {};

    static mask_pack load(const std::uint8_t* p) noexcept
    {
        mask_pack m;
        std::memcpy(m.w, p, N);
        return m;
    }
    void store(std::uint8_t* p) const noexcept { std::memcpy(p, w, N); }

    friend mask_pack operator|(mask_pack a, const mask_pack& b) noexcept
    {
        for (std::size_t i = 0; i < words; ++i) a.w[i] |= b.w[i];
        return a;
    }

    // Bytes 1 where the condition holds, 0 elsewhere.
    template <class C>
    static mask_pack ones_where(const C& condition) noexcept
    {
        mask_pack m;
        if constexpr (N == 1) {
            m.w[0] = condition ? 1u : 0u;
        } else {
            bool flags[N];
            condition.store_unaligned(flags);
            std::memcpy(m.w, flags, N);
        }
        return m;
    }

    // `bits` in every byte where the condition holds.
    template <class C>
    static mask_pack bits_where(const C& condition, std::uint8_t bits) noexcept
    {
        mask_pack m = ones_where(condition);
        for (auto& x : m.w) x *= bits;
        return m;
    }

    // Byte-wise select: a where the condition holds, else b.
    template <class C>
    static mask_pack select(const C& condition, const mask_pack& a, const mask_pack& b) noexcept
    {
        mask_pack m = ones_where(condition);
        for (std::size_t i = 0; i < words; ++i) {
            const std::uint64_t keep = m.w[i] * 0xFFu;
            m.w[i] = (a.w[i] & keep) | (b.w[i] & ~keep);
        }
        return m;
    }
};

template <class B>
using mask_of = mask_pack<lanes_v<B>>;

}  // namespace ccdx::detail
