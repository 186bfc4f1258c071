#pragma once
// Rank filters over a rectangular window: median, percentile, any order statistic.
//
// Every output pixel is the rank-th smallest value of the rows x cols window around it; the
// window runs past the edges by mirror reflection about the edge (d c b a | a b c d | d c b a),
// which is scipy.ndimage's default 'reflect' mode that ccdproc's median filters use. For an
// even size the window reaches one pixel further before the centre than after it, and the
// median is the upper of the two middle values (rank = count / 2), as in scipy. NaN sorts
// above every number.
//
// The image is cut into tiles. A tile and its halo are sorted once, which turns every pixel
// into a small integer (its position in that order); the window then slides over the tile in
// a snake, each step adding and removing one row or column of those integers in a bit set
// with per-word counts, and the rank-th set bit is the answer. That costs a few operations per
// window edge pixel instead of a selection over the whole window per pixel.

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string>
#include <type_traits>
#include <vector>

#include <xtensor/xtensor.hpp>

#include "ccdx/core/error.hpp"


namespace ccdx {

namespace detail {

// Index into [0, n) of position i of the reflected extension (period 2n).
inline std::size_t reflect_index(std::ptrdiff_t i, std::size_t n) noexcept
{
    const auto period = static_cast<std::ptrdiff_t>(2 * n);
    std::ptrdiff_t m = i % period;
    if (m < 0) m += period;
    return static_cast<std::size_t>(m < static_cast<std::ptrdiff_t>(n) ? m : period - 1 - m);
}

// An unsigned key whose integer order is the numeric order of the value, NaN last.
inline std::uint32_t order_key(float v) noexcept
{
    if (std::isnan(v)) return std::numeric_limits<std::uint32_t>::max();
    std::uint32_t u;
    std::memcpy(&u, &v, sizeof u);
    if (v == 0.0f) u = 0;  // -0 and +0 are the same value
    return (u & 0x80000000u) ? ~u : (u | 0x80000000u);
}
inline std::uint64_t order_key(double v) noexcept
{
    if (std::isnan(v)) return std::numeric_limits<std::uint64_t>::max();
    std::uint64_t u;
    std::memcpy(&u, &v, sizeof u);
    if (v == 0.0) u = 0;
    return (u & 0x8000000000000000u) ? ~u : (u | 0x8000000000000000u);
}

// A set of small distinct integers [0, n) (each a pixel's place in its tile's sorted order)
// as a bit set, with K cursors, each on its last answer with the count of members below it.
// Each step of the window moves an answer by a few members only, so a query walks from the
// previous answer instead of counting from the bottom.
template <std::size_t K>
class rank_set {
public:
    void reset(std::size_t n)
    {
        words_.assign((n + 63) / 64, 0);
        cursor_.fill(0);
        below_.fill(0);
    }
    void insert(std::uint32_t v) noexcept
    {
        words_[v >> 6] |= std::uint64_t{1} << (v & 63);
        for (std::size_t j = 0; j < K; ++j) below_[j] += v < cursor_[j];
    }
    void erase(std::uint32_t v) noexcept
    {
        words_[v >> 6] &= ~(std::uint64_t{1} << (v & 63));
        for (std::size_t j = 0; j < K; ++j) below_[j] -= v < cursor_[j];
    }
    // The k-th smallest member (0-based), found with cursor j; the set holds more than k members.
    std::uint32_t select(std::size_t j, std::size_t k) noexcept
    {
        std::uint32_t& cursor = cursor_[j];
        std::size_t& below = below_[j];
        while (below > k) {  // step down to the next member below the cursor
            cursor = previous(cursor);
            --below;
        }
        for (;;) {
            const bool member = (words_[cursor >> 6] >> (cursor & 63)) & 1u;
            if (member && below == k) return cursor;
            below += member;
            cursor = next(cursor + 1);
        }
    }

private:
    // Largest member < v (one exists).
    std::uint32_t previous(std::uint32_t v) const noexcept
    {
        std::size_t w = v >> 6;
        std::uint64_t bits = words_[w] & ((std::uint64_t{1} << (v & 63)) - 1);
        while (bits == 0) bits = words_[--w];
        return static_cast<std::uint32_t>(w * 64 + 63 - static_cast<unsigned>(__builtin_clzll(bits)));
    }
    // Smallest member >= v (one exists).
    std::uint32_t next(std::uint32_t v) const noexcept
    {
        std::size_t w = v >> 6;
        std::uint64_t bits = (v & 63) ? words_[w] & ~((std::uint64_t{1} << (v & 63)) - 1) : words_[w];
        while (bits == 0) bits = words_[++w];
        return static_cast<std::uint32_t>(w * 64 + static_cast<unsigned>(__builtin_ctzll(bits)));
    }

    std::vector<std::uint64_t> words_;
    std::array<std::uint32_t, K> cursor_{};
    std::array<std::size_t, K> below_{};
};

// Sorts a tile: position[i] is the place of region[i] in ascending order (NaN last, ties by
// index) and sorted[p] the value at place p. Floats go through a 3-pass radix sort on their
// order keys; doubles through std::sort.
template <class T>
struct tile_sorter;

template <>
struct tile_sorter<float> {
    std::vector<std::uint64_t> a, b;
    void rank(const std::vector<float>& region, std::vector<std::uint32_t>& position, std::vector<float>& sorted)
    {
        const std::size_t m = region.size();
        a.resize(m);
        b.resize(m);
        for (std::size_t i = 0; i < m; ++i) a[i] = (std::uint64_t{order_key(region[i])} << 32) | i;
        // Least significant digit first over the key bits 32..63 in digits of 11, 11 and 10 bits;
        // each pass is stable, so equal keys stay in index order.
        constexpr unsigned shifts[3] = {32, 43, 54};
        constexpr unsigned widths[3] = {11, 11, 10};
        for (int pass = 0; pass < 3; ++pass) {
            const unsigned shift = shifts[pass];
            const std::uint64_t mask = (std::uint64_t{1} << widths[pass]) - 1;
            std::uint32_t count[2048 + 1] = {};
            for (std::size_t i = 0; i < m; ++i) ++count[((a[i] >> shift) & mask) + 1];
            for (std::size_t d = 1; d <= 2048; ++d) count[d] += count[d - 1];
            for (std::size_t i = 0; i < m; ++i) b[count[(a[i] >> shift) & mask]++] = a[i];
            a.swap(b);
        }
        for (std::size_t p = 0; p < m; ++p) {
            const auto i = static_cast<std::uint32_t>(a[p]);
            position[i] = static_cast<std::uint32_t>(p);
            sorted[p] = region[i];
        }
    }
};

template <>
struct tile_sorter<double> {
    std::vector<std::pair<std::uint64_t, std::uint32_t>> order;
    void rank(const std::vector<double>& region, std::vector<std::uint32_t>& position, std::vector<double>& sorted)
    {
        const std::size_t m = region.size();
        order.resize(m);
        for (std::size_t i = 0; i < m; ++i) order[i] = {order_key(region[i]), static_cast<std::uint32_t>(i)};
        std::sort(order.begin(), order.end());
        for (std::size_t p = 0; p < m; ++p) {
            position[order[p].second] = static_cast<std::uint32_t>(p);
            sorted[p] = region[order[p].second];
        }
    }
};

template <class T>
void check_window(const xt::xtensor<T, 2>& in, std::size_t rows, std::size_t cols, const char* what)
{
    if (rows == 0 || cols == 0)
        throw value_error(std::string(what) + ": window size must be at least 1x1, got " + std::to_string(rows) +
                          "x" + std::to_string(cols));
    (void)in;
}

}  // namespace detail

namespace detail {

// Several order statistics of the same window in one pass: out[j] holds rank ranks[j].
template <class T, std::size_t K>
std::array<xt::xtensor<T, 2>, K> rank_filters(const xt::xtensor<T, 2>& in, const std::array<std::size_t, K>& ranks,
                                              std::size_t rows, std::size_t cols)
{
    static_assert(std::is_floating_point_v<T>, "rank filters work on float or double images");
    check_window(in, rows, cols, "rank_filter");
    for (const std::size_t rank : ranks)
        if (rank >= rows * cols)
            throw value_error("rank_filter: rank " + std::to_string(rank) + " is outside a " + std::to_string(rows) +
                              "x" + std::to_string(cols) + " window");
    const std::size_t ny = in.shape()[0], nx = in.shape()[1];
    std::array<xt::xtensor<T, 2>, K> out;
    for (auto& o : out) o = xt::xtensor<T, 2>::from_shape({ny, nx});
    if (ny == 0 || nx == 0) return out;

    // Output tile edge; the halo is (window - 1) on each axis.
    const std::size_t tile = std::max<std::size_t>(96, 2 * std::max(rows, cols));
    const std::size_t before_r = rows / 2, before_c = cols / 2;

    std::vector<T> region;
    std::vector<std::uint32_t> position;  // region index -> position in sorted order
    std::vector<T> sorted;
    tile_sorter<T> sorter;
    rank_set<K> set;

    for (std::size_t r0 = 0; r0 < ny; r0 += tile) {
        const std::size_t tr = std::min(tile, ny - r0);
        for (std::size_t c0 = 0; c0 < nx; c0 += tile) {
            const std::size_t tc = std::min(tile, nx - c0);
            const std::size_t rr = tr + rows - 1, rc = tc + cols - 1;  // region shape
            const std::size_t m = rr * rc;
            region.resize(m);
            for (std::size_t i = 0; i < rr; ++i) {
                const std::size_t y = reflect_index(
                    static_cast<std::ptrdiff_t>(r0 + i) - static_cast<std::ptrdiff_t>(before_r), ny);
                const T* src = &in(y, 0);
                T* dst = &region[i * rc];
                for (std::size_t j = 0; j < rc; ++j) {
                    const std::ptrdiff_t xj = static_cast<std::ptrdiff_t>(c0 + j) - static_cast<std::ptrdiff_t>(before_c);
                    dst[j] = src[(xj >= 0 && xj < static_cast<std::ptrdiff_t>(nx)) ? static_cast<std::size_t>(xj)
                                                                                      : reflect_index(xj, nx)];
                }
            }
            position.resize(m);
            sorted.resize(m);
            sorter.rank(region, position, sorted);

            // Snake through the tile: right along even rows, left along odd rows.
            set.reset(m);
            for (std::size_t i = 0; i < rows; ++i)
                for (std::size_t j = 0; j < cols; ++j) set.insert(position[i * rc + j]);
            for (std::size_t i = 0; i < tr; ++i) {
                if (i > 0) {  // step down: drop region row i-1, add row i+rows-1, at the current column
                    const std::size_t c = (i % 2 == 1) ? tc - 1 : 0;
                    for (std::size_t j = 0; j < cols; ++j) {
                        set.erase(position[(i - 1) * rc + c + j]);
                        set.insert(position[(i + rows - 1) * rc + c + j]);
                    }
                }
                std::array<T*, K> dst;
                for (std::size_t j = 0; j < K; ++j) dst[j] = &out[j](r0 + i, c0);
                const auto answer = [&](std::size_t c) {
                    for (std::size_t j = 0; j < K; ++j) dst[j][c] = sorted[set.select(j, ranks[j])];
                };
                if (i % 2 == 0) {
                    for (std::size_t c = 0;; ++c) {
                        answer(c);
                        if (c + 1 == tc) break;
                        for (std::size_t k = 0; k < rows; ++k) {
                            set.erase(position[(i + k) * rc + c]);
                            set.insert(position[(i + k) * rc + c + cols]);
                        }
                    }
                } else {
                    for (std::size_t c = tc - 1;; --c) {
                        answer(c);
                        if (c == 0) break;
                        for (std::size_t k = 0; k < rows; ++k) {
                            set.erase(position[(i + k) * rc + c + cols - 1]);
                            set.insert(position[(i + k) * rc + c - 1]);
                        }
                    }
                }
            }
        }
    }
    return out;
}

}  // namespace detail

// The rank-th smallest value (0-based, rank < rows*cols) of the rows x cols window around
// each pixel, edges reflected.
template <class T>
xt::xtensor<T, 2> rank_filter(const xt::xtensor<T, 2>& in, std::size_t rank, std::size_t rows, std::size_t cols)
{
    return std::move(detail::rank_filters<T, 1>(in, {rank}, rows, cols)[0]);
}

// Median of the rows x cols window around each pixel (the upper middle value for an even count).
template <class T>
xt::xtensor<T, 2> median_filter(const xt::xtensor<T, 2>& in, std::size_t rows, std::size_t cols)
{
    detail::check_window(in, rows, cols, "median_filter");
    return rank_filter(in, rows * cols / 2, rows, cols);
}

template <class T>
xt::xtensor<T, 2> median_filter(const xt::xtensor<T, 2>& in, std::size_t size)
{
    return median_filter(in, size, size);
}

namespace detail {

// The order statistic scipy takes for a percentile of `count` values: floor(count * p / 100),
// the largest for p = 100; negative p counts from the top.
inline std::size_t percentile_rank(std::size_t count, double percentile, const char* what)
{
    if (!(percentile >= -100.0 && percentile <= 100.0))
        throw value_error(std::string(what) + ": percentile " + std::to_string(percentile) + " is outside [-100, 100]");
    if (percentile < 0) percentile += 100.0;
    return percentile == 100.0 ? count - 1
                               : static_cast<std::size_t>(static_cast<double>(count) * percentile / 100.0);
}

}  // namespace detail

// The percentile-th percentile (0..100; negative counts from the top) of the window around
// each pixel, as an order statistic without interpolation: rank = floor(count * p / 100).
template <class T>
xt::xtensor<T, 2> percentile_filter(const xt::xtensor<T, 2>& in, double percentile, std::size_t rows,
                                    std::size_t cols)
{
    detail::check_window(in, rows, cols, "percentile_filter");
    return rank_filter(in, detail::percentile_rank(rows * cols, percentile, "percentile_filter"), rows, cols);
}

}  // namespace ccdx
