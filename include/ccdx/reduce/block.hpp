#pragma once
// Rebinning by whole blocks: block_reduce (sum or mean of each block), block_average and
// block_replicate, with the values ccdproc (astropy's block_reduce/block_replicate) gives.
//
// Unlike the reference, which drops them, the uncertainty and the mask are carried: the
// variances of a block add (and divide by n^2 for a mean), and a block is masked where any of
// its pixels is (the bits are OR'd). As in the reference, rows and columns that do not fill a
// whole block at the far edges are dropped, and values are reduced as they are (a masked or
// NaN pixel counts like any other).
//
// These are resampling steps, not pixel-wise ones, so they return an evaluated image.

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <string>
#include <vector>

#include "ccdx/core/error.hpp"
#include "ccdx/core/image.hpp"

namespace ccdx {

// Block size in pixels along rows (numpy axis 0, FITS y) and columns (axis 1, x).
struct block_size {
    std::size_t rows;
    std::size_t cols;
    block_size(std::size_t both) : rows(both), cols(both) {}  // NOLINT: a square block reads naturally as a number
    block_size(std::size_t rows_, std::size_t cols_) : rows(rows_), cols(cols_) {}
};

inline std::string to_string(const block_size& b)
{
    return "(" + std::to_string(b.rows) + ", " + std::to_string(b.cols) + ")";
}

enum class block_function { sum, mean };

namespace detail {

inline void check_block(const block_size& b, const shape2& shape, bool need_whole_block)
{
    if (b.rows == 0 || b.cols == 0)
        throw value_error("block size " + to_string(b) + " must be positive along both axes");
    if (need_whole_block && (b.rows > shape[0] || b.cols > shape[1]))
        throw value_error("block size " + to_string(b) + " is larger than the image " + to_string(shape));
}

}  // namespace detail

// Sum (or mean) of each rows x cols block. The result has floor(rows/b.rows) x
// floor(cols/b.cols) pixels, the unit, header and name of the input.
template <class T>
image<T> block_reduce(const image<T>& in, block_size b, block_function f = block_function::sum)
{
    detail::check_block(b, in.shape(), true);
    const std::size_t out_rows = in.rows() / b.rows, out_cols = in.cols() / b.cols;
    const std::size_t used_cols = out_cols * b.cols;
    // Accumulate in double: a block of float pixels summed in float loses digits the
    // reference (pairwise float sums over small blocks) does not.
    const double n = static_cast<double>(b.rows * b.cols);
    const double divisor = f == block_function::mean ? n : 1.0;

    image<T> out(out_rows, out_cols, in.unit());
    out.header() = in.header();
    out.set_name(in.name());
    const bool sigma = in.has_uncertainty(), masked = in.has_mask();
    typename image<T>::plane out_sigma;
    typename image<T>::mask_plane out_mask;
    if (sigma) out_sigma = image<T>::plane::from_shape({out_rows, out_cols});
    if (masked) out_mask = image<T>::mask_plane::from_shape({out_rows, out_cols});

    std::vector<double> sum(out_cols), var(out_cols);
    std::vector<mask_t> bits(out_cols);
    for (std::size_t r = 0; r < out_rows; ++r) {
        std::fill(sum.begin(), sum.end(), 0.0);
        std::fill(var.begin(), var.end(), 0.0);
        std::fill(bits.begin(), bits.end(), mask_t(0));
        for (std::size_t i = r * b.rows; i < (r + 1) * b.rows; ++i) {
            const T* row = &in.data()(i, 0);
            for (std::size_t c = 0; c < used_cols; ++c) sum[c / b.cols] += row[c];
            if (sigma) {
                const T* s = &in.uncertainty()(i, 0);
                for (std::size_t c = 0; c < used_cols; ++c) var[c / b.cols] += double(s[c]) * double(s[c]);
            }
            if (masked) {
                const mask_t* m = &in.mask()(i, 0);
                for (std::size_t c = 0; c < used_cols; ++c) bits[c / b.cols] |= m[c];
            }
        }
        for (std::size_t c = 0; c < out_cols; ++c) {
            out.data()(r, c) = static_cast<T>(sum[c] / divisor);
            if (sigma) out_sigma(r, c) = static_cast<T>(std::sqrt(var[c]) / divisor);
            if (masked) out_mask(r, c) = bits[c];
        }
    }
    if (sigma) out.set_uncertainty(std::move(out_sigma));
    if (masked) out.set_mask(std::move(out_mask));
    return out;
}

// Mean of each block: block_reduce with block_function::mean.
template <class T>
image<T> block_average(const image<T>& in, block_size b)
{
    return block_reduce(in, b, block_function::mean);
}

// Each pixel repeated over a rows x cols block. With conserve_sum (the default, as in the
// reference) each copy holds value/area, so the total is unchanged; the uncertainty scales
// the same way and the mask is repeated.
template <class T>
image<T> block_replicate(const image<T>& in, block_size b, bool conserve_sum = true)
{
    detail::check_block(b, in.shape(), false);
    const std::size_t out_rows = in.rows() * b.rows, out_cols = in.cols() * b.cols;

    image<T> out(out_rows, out_cols, in.unit());
    out.header() = in.header();
    out.set_name(in.name());
    auto repeat = [&](const auto& src, auto& dst, auto transform) {
        for (std::size_t r = 0; r < out_rows; ++r) {
            const auto* s = &src(r / b.rows, 0);
            auto* d = &dst(r, 0);
            for (std::size_t c = 0; c < out_cols; ++c) d[c] = transform(s[c / b.cols]);
        }
    };
    // Divide as the reference does (value / area), not multiply by 1/area: the same numbers.
    const T area = conserve_sum ? static_cast<T>(b.rows * b.cols) : T(1);
    repeat(in.data(), out.data(), [area](T v) { return v / area; });
    if (in.has_uncertainty()) {
        auto sigma = image<T>::plane::from_shape({out_rows, out_cols});
        repeat(in.uncertainty(), sigma, [area](T v) { return v / area; });
        out.set_uncertainty(std::move(sigma));
    }
    if (in.has_mask()) {
        auto mask = image<T>::mask_plane::from_shape({out_rows, out_cols});
        repeat(in.mask(), mask, [](mask_t v) { return v; });
        out.set_mask(std::move(mask));
    }
    return out;
}

}  // namespace ccdx
