#pragma once
// ccdmask: bad pixels and columns from a ratio of two flat fields, after IRAF's ccdmask as
// ccdproc ports it.
//
// The ratio minus its nlmed x ncmed running median leaves the pixel-to-pixel noise; a robust
// sigma (half the spread between the 30.9th and 69.1st percentiles, which is one sigma for a
// Gaussian) comes from an nlsig x ncsig window around each pixel, or from fixed blocks of
// that size with `byblocks`. Pixels below -lsigma or above hsigma sigmas are bad, as are
// non-finite pixels. With `findbadcolumns`, runs of up to `ngood` good pixels between bad
// ones in a column are marked bad too (as ccdproc's loop does; its text says "fewer than"), and (with `byblocks`) whole block columns whose
// sum stands out. Lines are rows (axis 0), columns are axis 1.
//
// The result is a boolean mask, true = bad; mark it into an image's mask with
// mark_mask(img.ensure_mask(), ccdmask(ratio), mask_bits::bad).

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <string>
#include <vector>

#include <xtensor/xtensor.hpp>

#include "ccdx/core/error.hpp"
#include "ccdx/core/image.hpp"
#include "ccdx/detect/median_filter.hpp"

namespace ccdx {

struct ccdmask_options {
    bool findbadcolumns = false;  // fill short good gaps in columns; test block column sums
    bool byblocks = false;        // one sigma per nlsig x ncsig block instead of a moving window
    std::size_t ncmed = 7;        // columns of the median that is subtracted
    std::size_t nlmed = 7;        // lines of that median
    std::size_t ncsig = 15;       // columns of the sigma window or block
    std::size_t nlsig = 15;       // lines of the sigma window or block
    double lsigma = 9;            // low limit, in sigmas
    double hsigma = 9;            // high limit, in sigmas
    std::size_t ngood = 5;        // good runs of up to ngood lines between bad pixels in a column are bad
};

namespace detail {

// numpy's default (linear) percentile of sorted finite values.
template <class T>
double linear_percentile(const std::vector<T>& sorted, double p)
{
    if (sorted.empty()) return std::nan("");
    const double index = p / 100.0 * static_cast<double>(sorted.size() - 1);
    const auto lo = static_cast<std::size_t>(std::floor(index));
    const std::size_t hi = std::min(lo + 1, sorted.size() - 1);
    const double t = index - static_cast<double>(lo);
    const double a = sorted[lo], b = sorted[hi];
    // numpy's lerp: from the nearer end, so that t = 1 gives b exactly.
    return t >= 0.5 ? b - (b - a) * (1.0 - t) : a + (b - a) * t;
}

template <class T>
bool outside(T value, double sigma, double low, double high)
{
    return value < -low * sigma || value > high * sigma;
}

}  // namespace detail

template <class T>
xt::xtensor<bool, 2> ccdmask(const image<T>& ratio, const ccdmask_options& o = {})
{
    for (const auto& [size, name] : {std::pair{o.ncmed, "ncmed"}, std::pair{o.nlmed, "nlmed"},
                                     std::pair{o.ncsig, "ncsig"}, std::pair{o.nlsig, "nlsig"}})
        if (size == 0) throw value_error(std::string("ccdmask: ") + name + " must be at least 1");
    const std::size_t nlines = ratio.rows(), ncols = ratio.cols();
    const auto& data = ratio.data();

    xt::xtensor<bool, 2> mask = xt::xtensor<bool, 2>::from_shape({nlines, ncols});
    for (std::size_t i = 0; i < data.size(); ++i) mask.data()[i] = !std::isfinite(data.data()[i]);
    xt::xtensor<T, 2> medsub = median_filter(data, o.nlmed, o.ncmed);
    for (std::size_t i = 0; i < data.size(); ++i) medsub.data()[i] = data.data()[i] - medsub.data()[i];

    if (!o.byblocks) {
        // Order statistics of the window (no interpolation), as scipy's percentile filter;
        // both from one pass.
        const std::size_t count = o.nlsig * o.ncsig;
        const auto [high, low] = detail::rank_filters<T, 2>(
            medsub, {detail::percentile_rank(count, 69.1, "ccdmask"), detail::percentile_rank(count, 30.9, "ccdmask")},
            o.nlsig, o.ncsig);
        for (std::size_t i = 0; i < medsub.size(); ++i) {
            const T sigma = (high.data()[i] - low.data()[i]) / T(2);
            mask.data()[i] = mask.data()[i] || detail::outside(medsub.data()[i], sigma, o.lsigma, o.hsigma);
        }
    } else {
        std::vector<T> values;
        std::vector<T> column_sum;
        for (std::size_t l1 = 0; l1 < nlines; l1 += o.nlsig) {
            const std::size_t l2 = std::min(l1 + o.nlsig, nlines);
            for (std::size_t c1 = 0; c1 < ncols; c1 += o.ncsig) {
                const std::size_t c2 = std::min(c1 + o.ncsig, ncols);
                values.clear();
                for (std::size_t l = l1; l < l2; ++l)
                    for (std::size_t c = c1; c < c2; ++c)
                        if (std::isfinite(medsub(l, c))) values.push_back(medsub(l, c));
                std::sort(values.begin(), values.end());
                const double sigma =
                    (detail::linear_percentile(values, 69.1) - detail::linear_percentile(values, 30.9)) / 2.0;
                // Non-finite pixels stay bad (the reference's block assignment would clear them).
                for (std::size_t l = l1; l < l2; ++l)
                    for (std::size_t c = c1; c < c2; ++c)
                        mask(l, c) = mask(l, c) || detail::outside(medsub(l, c), sigma, o.lsigma, o.hsigma);
                if (o.findbadcolumns) {
                    // Sum of each block column's good pixels against sqrt(width - sum), as
                    // ccdproc's port has it.
                    for (std::size_t c = c1; c < c2; ++c) {
                        T sum = 0;
                        bool any = false;
                        for (std::size_t l = l1; l < l2; ++l)
                            if (!mask(l, c)) sum += medsub(l, c), any = true;
                        if (!any) continue;  // already all bad
                        if (sum <= 0) sum = 0;
                        const double s = std::sqrt(static_cast<double>(c2 - c1) - static_cast<double>(sum));
                        if (detail::outside(sum, s, o.lsigma, o.hsigma))
                            for (std::size_t l = l1; l < l2; ++l) mask(l, c) = true;
                    }
                }
            }
        }
    }

    if (o.findbadcolumns && nlines > o.ngood + 1) {
        // A run of up to ngood good pixels closed by bad ones on both sides becomes bad; the
        // search starts no later than line nlines - ngood - 2, as in the reference.
        for (std::size_t c = 0; c < ncols; ++c)
            for (std::size_t line = 0; line < nlines - o.ngood - 1; ++line) {
                if (!mask(line, c)) continue;
                for (std::size_t i = 2; i < o.ngood + 2; ++i) {
                    const std::size_t end = line + i;
                    if (!mask(end, c)) continue;
                    bool all_bad = true;
                    for (std::size_t k = line; k <= end; ++k) all_bad = all_bad && mask(k, c);
                    if (!all_bad)
                        for (std::size_t k = line; k < end; ++k) mask(k, c) = true;
                }
            }
    }
    return mask;
}

}  // namespace ccdx
