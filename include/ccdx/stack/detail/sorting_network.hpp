#pragma once
// Sorting networks: fixed sequences of compare-exchange steps that sort n values with no
// data-dependent branch, so that a whole SIMD batch of pixels (one value per lane) sorts at
// once with min/max instructions.

#include <algorithm>
#include <array>
#include <cstddef>
#include <utility>
#include <vector>

#include "ccdx/expr/detail/simd.hpp"

namespace ccdx::detail {

// One compare-exchange: after it, position lo holds the smaller value, hi the larger.
struct comparator {
    std::size_t lo;
    std::size_t hi;
};

// Batcher's odd-even merge sort for any n: the network for the next power of two with the
// comparators that touch a position >= n dropped. (Padding positions would hold +inf, which a
// comparator never moves, so dropping them leaves a network that sorts n values.)
inline std::vector<comparator> sorting_network(std::size_t n)
{
    std::size_t size = 1;
    while (size < n) size *= 2;
    std::vector<comparator> net;
    for (std::size_t p = 1; p < size; p *= 2)
        for (std::size_t k = p; k >= 1; k /= 2) {
            for (std::size_t j = k % p; j + k < size; j += 2 * k)
                for (std::size_t i = 0; i < k && i + j + k < size; ++i)
                    if ((i + j) / (2 * p) == (i + j + k) / (2 * p) && i + j + k < n) net.push_back({i + j, i + j + k});
        }
    return net;
}

// The comparators of `net` that the final values at `positions` depend on (e.g. the middle
// of the order, for a median): a backward pass keeps a step only if it writes a position
// still needed, and then needs both its inputs.
inline std::vector<comparator> prune_network(const std::vector<comparator>& net, std::size_t n,
                                             const std::vector<std::size_t>& positions)
{
    std::vector<bool> needed(n, false);
    for (std::size_t p : positions) needed[p] = true;
    std::vector<comparator> kept;
    for (auto it = net.rbegin(); it != net.rend(); ++it)
        if (needed[it->lo] || needed[it->hi]) {
            needed[it->lo] = needed[it->hi] = true;
            kept.push_back(*it);
        }
    std::reverse(kept.begin(), kept.end());
    return kept;
}

// Runs a network over v[0..n): Min/Max are the element type's minimum and maximum (xsimd's
// for batches). Values must not be NaN (a NaN makes min/max order-dependent).
template <class V>
inline void apply_network(const std::vector<comparator>& net, V* v)
{
    using std::max;
    using std::min;
    for (const comparator& c : net) {
        const V a = v[c.lo];
        const V b = v[c.hi];
        v[c.lo] = min(a, b);
        v[c.hi] = max(a, b);
    }
}

// --- networks known at compile time -----------------------------------------------------------
// For the stack sizes met in practice the network is unrolled over a local array, which the
// compiler keeps in SIMD registers: no load or store between the compare-exchange steps.

inline constexpr std::size_t max_static_network = 32;

// Batcher's network for n values, walked as sorting_network() builds it; `emit(lo, hi)` per step.
template <class F>
constexpr void for_each_batcher_step(std::size_t n, F&& emit)
{
    std::size_t size = 1;
    while (size < n) size *= 2;
    for (std::size_t p = 1; p < size; p *= 2)
        for (std::size_t k = p; k >= 1; k /= 2)
            for (std::size_t j = k % p; j + k < size; j += 2 * k)
                for (std::size_t i = 0; i < k && i + j + k < size; ++i)
                    if ((i + j) / (2 * p) == (i + j + k) / (2 * p) && i + j + k < n) emit(i + j, i + j + k);
}

// Whether step `s` of the network for n is needed for the middle one or two positions.
template <std::size_t N, std::size_t Count>
constexpr std::array<bool, Count> middle_steps(const std::array<comparator, Count>& net)
{
    std::array<bool, Count> keep{};
    std::array<bool, (N > 0 ? N : 1)> needed{};
    needed[(N - 1) / 2] = needed[N / 2] = true;
    for (std::size_t s = Count; s-- > 0;)
        if (needed[net[s].lo] || needed[net[s].hi]) {
            needed[net[s].lo] = needed[net[s].hi] = true;
            keep[s] = true;
        }
    return keep;
}

template <std::size_t N>
struct static_network {
    static constexpr std::size_t count = [] {
        std::size_t c = 0;
        for_each_batcher_step(N, [&](std::size_t, std::size_t) { ++c; });
        return c;
    }();
    static constexpr std::array<comparator, count> all = [] {
        std::array<comparator, count> net{};
        std::size_t c = 0;
        for_each_batcher_step(N, [&](std::size_t lo, std::size_t hi) { net[c++] = comparator{lo, hi}; });
        return net;
    }();
    static constexpr std::array<bool, count> for_middle = middle_steps<N>(all);
};

CCDX_INTRINSICS_BEGIN

template <class V>
inline void compare_exchange(V& a, V& b)
{
    using std::max;
    using std::min;
    const V lo = min(a, b);
    b = max(a, b);
    a = lo;
}

template <std::size_t N, bool MiddleOnly, class V, std::size_t... S>
inline void run_static([[maybe_unused]] V* v, std::index_sequence<S...>)
{
    using net = static_network<N>;
    ((!MiddleOnly || net::for_middle[S] ? compare_exchange(v[net::all[S].lo], v[net::all[S].hi]) : void()), ...);
}

// Sorts v[0..N) (or, MiddleOnly, places its middle one or two values) through a local copy.
template <std::size_t N, bool MiddleOnly, class V>
inline void sort_static(V* v)
{
    V t[N];
    for (std::size_t i = 0; i < N; ++i) t[i] = v[i];
    run_static<N, MiddleOnly>(t, std::make_index_sequence<static_network<N>::count>{});
    for (std::size_t i = 0; i < N; ++i) v[i] = t[i];
}

// Sorts keys with a payload (an index) moving alongside; `swap_if(cond, a, b)` by `less(b, a)`.
template <std::size_t N, class V, class Less, class Select, std::size_t... S>
inline void run_static_pairs(V* key, V* payload, Less less, Select select, std::index_sequence<S...>)
{
    using net = static_network<N>;
    [[maybe_unused]] auto step = [&](std::size_t lo, std::size_t hi) {
        const auto swap = less(key[hi], key[lo]);
        const V a = key[lo], b = key[hi], pa = payload[lo], pb = payload[hi];
        key[lo] = select(swap, b, a);
        key[hi] = select(swap, a, b);
        payload[lo] = select(swap, pb, pa);
        payload[hi] = select(swap, pa, pb);
    };
    (step(net::all[S].lo, net::all[S].hi), ...);
}

template <std::size_t N, class V, class Less, class Select>
inline void sort_static_pairs(V* key, V* payload, Less less, Select select)
{
    V k[N], p[N];
    for (std::size_t i = 0; i < N; ++i) k[i] = key[i], p[i] = payload[i];
    run_static_pairs<N>(k, p, less, select, std::make_index_sequence<static_network<N>::count>{});
    for (std::size_t i = 0; i < N; ++i) key[i] = k[i], payload[i] = p[i];
}

CCDX_INTRINSICS_END

}  // namespace ccdx::detail
