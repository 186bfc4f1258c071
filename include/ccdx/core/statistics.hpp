#pragma once
// Statistics of pixel values: mean, median, mad_std and sigma-clipped statistics, as astropy's
// numpy/astropy.stats functions give them. Every function skips NaN; with use_mask = true it
// also skips pixels whose mask is nonzero. Sums run in double whatever the pixel type.

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <iterator>
#include <limits>
#include <type_traits>
#include <vector>

#include "ccdx/core/image.hpp"

namespace ccdx {

// 1 / Phi^-1(3/4): turns a median absolute deviation into a Gaussian standard deviation.
inline constexpr double mad_to_std = 1.482602218505602;

namespace detail {

// The values a statistic looks at: not NaN (with finite_only, not infinite either) and, when
// asked, unmasked.
template <class T>
std::vector<double> usable_values(const image<T>& img, bool use_mask, bool finite_only = false)
{
    std::vector<double> out;
    out.reserve(img.size());
    const T* d = img.data().data();
    const mask_t* m = use_mask && img.has_mask() ? img.mask().data() : nullptr;
    for (std::size_t i = 0, n = img.size(); i < n; ++i) {
        const double v = static_cast<double>(d[i]);
        if (m && m[i] != 0) continue;
        if (finite_only ? !std::isfinite(v) : std::isnan(v)) continue;
        out.push_back(v);
    }
    return out;
}

// Median of values in place (reorders them); even counts take the mean of the two middle
// values, as numpy does. NaN for no values.
inline double median_in_place(std::vector<double>& v)
{
    const std::size_t n = v.size();
    if (n == 0) return std::numeric_limits<double>::quiet_NaN();
    const auto mid = v.begin() + static_cast<std::ptrdiff_t>(n / 2);
    std::nth_element(v.begin(), mid, v.end());
    if (n % 2 == 1) return *mid;
    const double below = *std::max_element(v.begin(), mid);
    return 0.5 * (below + *mid);
}

inline double mean_of(const std::vector<double>& v)
{
    if (v.empty()) return std::numeric_limits<double>::quiet_NaN();
    double s = 0;
    for (double x : v) s += x;
    return s / static_cast<double>(v.size());
}

// Population standard deviation (ddof 0, numpy's default), about the mean.
inline double std_of(const std::vector<double>& v)
{
    if (v.empty()) return std::numeric_limits<double>::quiet_NaN();
    const double m = mean_of(v);
    double s = 0;
    for (double x : v) s += (x - m) * (x - m);
    return std::sqrt(s / static_cast<double>(v.size()));
}

inline double mad_std_in_place(std::vector<double>& v)
{
    const double med = median_in_place(v);
    for (double& x : v) x = std::abs(x - med);
    return mad_to_std * median_in_place(v);
}

}  // namespace detail

// --- over a range of values (NaN skipped) ----------------------------------------------------

template <class It>
double mean(It first, It last)
{
    double s = 0;
    std::size_t n = 0;
    for (; first != last; ++first) {
        const double v = static_cast<double>(*first);
        if (std::isnan(v)) continue;
        s += v;
        ++n;
    }
    return n ? s / static_cast<double>(n) : std::numeric_limits<double>::quiet_NaN();
}

// Copies the values into scratch space: the range is left untouched.
template <class It>
double median(It first, It last)
{
    std::vector<double> v;
    for (; first != last; ++first) {
        const double x = static_cast<double>(*first);
        if (!std::isnan(x)) v.push_back(x);
    }
    return detail::median_in_place(v);
}

// 1.4826 * median(|x - median(x)|), astropy.stats.mad_std.
template <class It>
double mad_std(It first, It last)
{
    std::vector<double> v;
    for (; first != last; ++first) {
        const double x = static_cast<double>(*first);
        if (!std::isnan(x)) v.push_back(x);
    }
    return detail::mad_std_in_place(v);
}

// --- over an image ----------------------------------------------------------------------------

template <class T>
double mean(const image<T>& img, bool use_mask = false)
{
    return detail::mean_of(detail::usable_values(img, use_mask));
}

template <class T>
double median(const image<T>& img, bool use_mask = false)
{
    auto v = detail::usable_values(img, use_mask);
    return detail::median_in_place(v);
}

template <class T>
double mad_std(const image<T>& img, bool use_mask = false)
{
    auto v = detail::usable_values(img, use_mask);
    return detail::mad_std_in_place(v);
}

// Standard deviation (ddof 0).
template <class T>
double stddev(const image<T>& img, bool use_mask = false)
{
    return detail::std_of(detail::usable_values(img, use_mask));
}

// An unevaluated expression is refused in plain words (the statistics read a whole image).
#define CCDX_NEEDS_IMAGE(name)                                                                   \
    template <class E, class = std::enable_if_t<is_expression<E>::value>>                       \
    double name(const E&, bool = false)                                                          \
    {                                                                                            \
        static_assert(detail::dependent_false<E>,                                                \
                      #name "() takes an image, not an unevaluated expression: call eval() first, " \
                      "e.g. " #name "(eval(raw - bias))");                                       \
        return 0;                                                                                \
    }
CCDX_NEEDS_IMAGE(mean)
CCDX_NEEDS_IMAGE(median)
CCDX_NEEDS_IMAGE(mad_std)
CCDX_NEEDS_IMAGE(stddev)
#undef CCDX_NEEDS_IMAGE

struct clipped_stats {
    double mean;
    double median;
    double stddev;
    std::size_t count;  // values that survived the clipping
};

// astropy.stats.sigma_clipped_stats with its defaults: clip about the median at
// +-sigma standard deviations, up to maxiters passes (a negative maxiters: until nothing
// changes). NaN and infinite values are always left out. Values equal to a bound are kept.
template <class T>
clipped_stats sigma_clipped_stats(const image<T>& img, double sigma = 3, int maxiters = 5, bool use_mask = true)
{
    const std::vector<double> valid = detail::usable_values(img, use_mask, /*finite_only=*/true);
    std::vector<double> kept = valid;
    std::vector<double> scratch;
    double lo = -std::numeric_limits<double>::infinity();
    double hi = std::numeric_limits<double>::infinity();
    for (int iteration = 0; maxiters < 0 || iteration < maxiters; ++iteration) {
        if (kept.empty()) break;
        scratch = kept;
        const double centre = detail::median_in_place(scratch);
        const double dev = detail::std_of(kept);
        lo = centre - sigma * dev;
        hi = centre + sigma * dev;
        const std::size_t before = kept.size();
        kept.erase(std::remove_if(kept.begin(), kept.end(), [&](double x) { return x < lo || x > hi; }), kept.end());
        if (kept.size() == before) break;
    }
    // Like astropy, the last bounds decide over all valid values.
    kept.clear();
    for (double x : valid)
        if (x >= lo && x <= hi) kept.push_back(x);
    clipped_stats s;
    s.count = kept.size();
    s.mean = detail::mean_of(kept);
    s.stddev = detail::std_of(kept);
    s.median = detail::median_in_place(kept);
    return s;
}

}  // namespace ccdx
