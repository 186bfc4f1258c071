#pragma once
// Quick-look PNG previews of an image with an astronomer's display scaling: display limits from
// IRAF's zscale or from percentiles, then a linear, square-root, logarithmic or asinh stretch.
// The PNG (8-bit grey) is encoded by libpng, compressed.

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include <png.h>

#include "ccdx/core/error.hpp"
#include "ccdx/core/image.hpp"
#include "ccdx/io/detail/staged_file.hpp"

namespace ccdx {

// The pixel values mapped to black and to white.
struct display_limits {
    double low = 0;
    double high = 1;
};

// IRAF's zscale, with the parameters (and defaults) of astropy's ZScaleInterval.
struct zscale_options {
    std::size_t samples = 1000;   // pixels sampled, evenly strided
    double contrast = 0.25;       // slope divisor: smaller widens the range
    double max_reject = 0.5;      // give up the fit (use min/max) when more than this fraction is rejected
    std::size_t min_pixels = 5;
    double krej = 2.5;            // rejection threshold, in standard deviations of the residuals
    int max_iterations = 5;
};

enum class stretch { linear, sqrt, log, asinh };

struct preview_options {
    enum class limits_kind { zscale, percentile };
    limits_kind limits = limits_kind::zscale;
    double low_percent = 1;        // percentile limits (limits_kind::percentile)
    double high_percent = 99.5;
    zscale_options zscale{};
    ccdx::stretch stretch = ccdx::stretch::asinh;
    double softening = 0.5;        // a: asinh(x/a)/asinh(1/a) (small a brightens faint light); log uses log(1+x/a)/log(1+1/a)
    std::size_t max_side = 2048;   // larger images are block-averaged down to fit
    bool overwrite = false;
};

// The bytes of an 8-bit greyscale PNG; `grey` holds `height` rows of `width` pixels, top row first.
inline std::vector<std::uint8_t> png_bytes(const std::vector<std::uint8_t>& grey, std::size_t width,
                                           std::size_t height)
{
    if (width == 0 || height == 0 || width > 0x7FFFFFFFu || height > 0x7FFFFFFFu)
        throw value_error("PNG size " + std::to_string(width) + " x " + std::to_string(height) + " is not writable");
    if (grey.size() != width * height)
        throw shape_error("PNG pixels: " + std::to_string(grey.size()) + " values for " + std::to_string(width) +
                          " x " + std::to_string(height));
    // libpng's simplified API: once for the size, once into a buffer of that size.
    png_image im{};
    im.version = PNG_IMAGE_VERSION;
    im.width = static_cast<png_uint_32>(width);
    im.height = static_cast<png_uint_32>(height);
    im.format = PNG_FORMAT_GRAY;
    png_alloc_size_t size = 0;
    std::vector<std::uint8_t> out;
    if (png_image_write_to_memory(&im, nullptr, &size, 0, grey.data(), 0, nullptr)) {
        out.resize(size);
        if (!png_image_write_to_memory(&im, out.data(), &size, 0, grey.data(), 0, nullptr)) out.clear();
    }
    if (out.empty()) {
        const std::string why = im.message;
        png_image_free(&im);
        throw error("PNG of " + std::to_string(width) + " x " + std::to_string(height) + " cannot be encoded: " + why);
    }
    out.resize(size);
    return out;
}

// Writes an 8-bit greyscale PNG (top row first), whole or not at all (see ccdx/io/detail/staged_file.hpp).
// Refuses to replace a file unless `overwrite`.
inline void write_png(const std::filesystem::path& path, const std::vector<std::uint8_t>& grey, std::size_t width,
                      std::size_t height, bool overwrite = false)
{
    const auto bytes = png_bytes(grey, width, height);
    if (!overwrite && std::filesystem::exists(path))
        throw error("PNG file '" + path.string() + "': already exists; not overwriting it");
    detail::staged_file<error> out(path, "PNG file");
    out.write(bytes.data(), bytes.size());
    out.commit(overwrite);
}

namespace detail {

inline std::vector<double> finite_values(const double* first, std::size_t n)
{
    std::vector<double> v;
    v.reserve(n);
    for (std::size_t i = 0; i < n; ++i)
        if (std::isfinite(first[i])) v.push_back(first[i]);
    return v;
}

// numpy's default (linear) percentile of an unsorted vector, which it reorders.
inline double percentile_of(std::vector<double>& v, double percent)
{
    const double pos = std::clamp(percent, 0.0, 100.0) / 100.0 * static_cast<double>(v.size() - 1);
    const auto lo = static_cast<std::size_t>(std::floor(pos));
    std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(lo), v.end());
    const double a = v[lo];
    if (lo + 1 >= v.size()) return a;
    const double b = *std::min_element(v.begin() + static_cast<std::ptrdiff_t>(lo + 1), v.end());
    return a + (b - a) * (pos - static_cast<double>(lo));
}

}  // namespace detail

// Display limits at two percentiles of the finite values (numpy's linear interpolation).
inline display_limits percentile_limits(const std::vector<double>& values, double low_percent, double high_percent)
{
    if (!(low_percent >= 0 && low_percent < high_percent && high_percent <= 100))
        throw value_error("percentile limits need 0 <= low < high <= 100, got " + std::to_string(low_percent) +
                          " and " + std::to_string(high_percent));
    auto v = detail::finite_values(values.data(), values.size());
    if (v.empty()) return {0, 1};
    return {detail::percentile_of(v, low_percent), detail::percentile_of(v, high_percent)};
}

// IRAF's zscale: fit a line to the sorted sample with iterative k-sigma rejection (growing each
// rejected point by 1% of the sample) and widen its slope by 1/contrast around the median.
inline display_limits zscale_limits(const std::vector<double>& values, const zscale_options& o = {})
{
    const auto finite = detail::finite_values(values.data(), values.size());
    if (finite.empty()) return {0, 1};
    const std::size_t stride =
        std::max<std::size_t>(1, static_cast<std::size_t>(static_cast<double>(finite.size()) /
                                                           static_cast<double>(std::max<std::size_t>(o.samples, 1))));
    std::vector<double> s;
    for (std::size_t i = 0; i < finite.size() && s.size() < std::max<std::size_t>(o.samples, 1); i += stride)
        s.push_back(finite[i]);
    std::sort(s.begin(), s.end());

    const std::size_t n = s.size();
    display_limits lim{s.front(), s.back()};
    const std::size_t min_good =
        std::max(o.min_pixels, static_cast<std::size_t>(static_cast<double>(n) * o.max_reject));
    const std::size_t grow = std::max<std::size_t>(1, static_cast<std::size_t>(static_cast<double>(n) * 0.01));

    std::vector<char> bad(n, 0), grown(n, 0);
    std::size_t good = n, last_good = n + 1;
    double slope = 0;
    for (int it = 0; it < o.max_iterations; ++it) {
        if (good >= last_good || good < min_good) break;
        // Least-squares line through the good points, x = index.
        double sx = 0, sy = 0, sxx = 0, sxy = 0, m = 0;
        for (std::size_t i = 0; i < n; ++i) {
            if (bad[i]) continue;
            const double x = static_cast<double>(i);
            sx += x, sy += s[i], sxx += x * x, sxy += x * s[i], m += 1;
        }
        const double den = m * sxx - sx * sx;
        slope = den != 0 ? (m * sxy - sx * sy) / den : 0;
        const double intercept = (sy - slope * sx) / m;

        double rs = 0, rss = 0;
        for (std::size_t i = 0; i < n; ++i) {
            if (bad[i]) continue;
            const double r = s[i] - (intercept + slope * static_cast<double>(i));
            rs += r, rss += r * r;
        }
        const double mean_r = rs / m;
        const double threshold = o.krej * std::sqrt(std::max(0.0, rss / m - mean_r * mean_r));
        for (std::size_t i = 0; i < n; ++i) {
            const double r = s[i] - (intercept + slope * static_cast<double>(i));
            if (r < -threshold || r > threshold) bad[i] = 1;
        }
        // Dilate: a point is bad if any point in [i - grow/2, i + (grow-1)/2] is.
        for (std::size_t i = 0; i < n; ++i) {
            const std::size_t from = i >= grow / 2 ? i - grow / 2 : 0;
            const std::size_t to = std::min(n - 1, i + (grow - 1) / 2);
            grown[i] = 0;
            for (std::size_t j = from; j <= to && !grown[i]; ++j) grown[i] = bad[j];
        }
        bad.swap(grown);
        last_good = good;
        good = static_cast<std::size_t>(std::count(bad.begin(), bad.end(), 0));
    }
    if (good >= min_good && last_good != n + 1) {
        if (o.contrast > 0) slope /= o.contrast;
        const std::size_t center = (n - 1) / 2;
        const double median = n % 2 ? s[n / 2] : 0.5 * (s[n / 2 - 1] + s[n / 2]);
        lim.low = std::max(lim.low, median - (static_cast<double>(center) - 1) * slope);
        lim.high = std::min(lim.high, median + static_cast<double>(n - center) * slope);
    }
    return lim;
}

// Maps a value in [0, 1] (already scaled between the limits) through the stretch.
inline double apply_stretch(double x, stretch s, double softening)
{
    x = std::clamp(x, 0.0, 1.0);
    switch (s) {
    case stretch::linear: return x;
    case stretch::sqrt: return std::sqrt(x);
    case stretch::log: {
        const double a = 1 / softening;
        return std::log1p(a * x) / std::log1p(a);
    }
    case stretch::asinh: return std::asinh(x / softening) / std::asinh(1 / softening);
    }
    return x;
}

// The 8-bit preview of an image: `width` x `height` grey levels, top row first (FITS row 0 is the
// bottom of the picture, as astronomers display it). NaN and inf pixels are black.
struct preview_pixels {
    std::vector<std::uint8_t> grey;
    std::size_t width = 0;
    std::size_t height = 0;
    display_limits limits;
};

template <class T>
preview_pixels render_preview(const image<T>& img, const preview_options& o = {})
{
    if (img.rows() == 0 || img.cols() == 0) throw shape_error("cannot preview an empty image of shape " + to_string(img.shape()));
    if (!(o.softening > 0)) throw value_error("preview stretch softening must be positive, got " + std::to_string(o.softening));
    // Block-average down by a whole factor so the picture stays a sensible size (blocks at the
    // right and top edges average the pixels they have).
    const std::size_t side = std::max(img.rows(), img.cols());
    const std::size_t f = o.max_side == 0 ? 1 : (side + o.max_side - 1) / o.max_side;
    const std::size_t h = (img.rows() + f - 1) / f, w = (img.cols() + f - 1) / f;
    std::vector<double> v(w * h);
    const auto& d = img.data();
    for (std::size_t r = 0; r < h; ++r)
        for (std::size_t c = 0; c < w; ++c) {
            const std::size_t r1 = std::min(img.rows(), (r + 1) * f), c1 = std::min(img.cols(), (c + 1) * f);
            double sum = 0;
            for (std::size_t i = r * f; i < r1; ++i)
                for (std::size_t j = c * f; j < c1; ++j) sum += static_cast<double>(d(i, j));
            v[r * w + c] = sum / static_cast<double>((r1 - r * f) * (c1 - c * f));
        }

    preview_pixels p;
    p.width = w;
    p.height = h;
    p.limits = o.limits == preview_options::limits_kind::zscale ? zscale_limits(v, o.zscale)
                                                                 : percentile_limits(v, o.low_percent, o.high_percent);
    const double span = p.limits.high > p.limits.low ? p.limits.high - p.limits.low : 1;
    p.grey.resize(w * h);
    for (std::size_t r = 0; r < h; ++r)
        for (std::size_t c = 0; c < w; ++c) {
            const double x = v[r * w + c];
            const double y = std::isfinite(x) ? apply_stretch((x - p.limits.low) / span, o.stretch, o.softening) : 0;
            p.grey[(h - 1 - r) * w + c] = static_cast<std::uint8_t>(std::lround(y * 255));
        }
    return p;
}

// Writes a PNG preview of the image's data; returns the display limits used.
template <class T>
display_limits write_preview(const image<T>& img, const std::filesystem::path& path, const preview_options& o = {})
{
    const auto p = render_preview(img, o);
    write_png(path, p.grey, p.width, p.height, o.overwrite);
    return p.limits;
}

}  // namespace ccdx
