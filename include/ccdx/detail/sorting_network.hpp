#pragma once
// Sorting networks: fixed sequences of compare-exchange steps that sort n values with no
// data-dependent branch, so that a whole SIMD batch of pixels (one value per lane) sorts at
// once with min/max instructions.

#include <algorithm>
#include <cstddef>
#include <utility>
#include <vector>

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

}  // namespace ccdx::detail
