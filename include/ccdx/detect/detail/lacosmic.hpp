#pragma once
// The image operations L.A.Cosmic is built from (van Dokkum 2001, PASP 113, 1420), in single
// precision as the reference implementation works: small median filters (separable or full)
// that leave a border of the filter's half width unfiltered, the Laplacian of the 2x
// subsampled image, boolean growth, PSF kernels and the masked cleaning filters.

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include <xsimd/xsimd.hpp>
#include <xtensor/xtensor.hpp>

#include "ccdx/detect/median_filter.hpp"
#include "ccdx/expr/detail/simd.hpp"

namespace ccdx::detail::lacosmic {

using plane = xt::xtensor<float, 2>;
using flags = xt::xtensor<std::uint8_t, 2>;

CCDX_INTRINSICS_BEGIN  // GCC bug 105593: see expr/detail/simd.hpp

// Median of N values (N odd, at most 9) in place by an odd-even transposition network of
// min/max: no branches, so it runs on SIMD batches as on single floats.
template <int N, class V>
inline V median_network(V (&v)[N]) noexcept
{
    static_assert(N % 2 == 1 && N <= 9, "odd windows up to 9");
    using std::max;
    using std::min;
    using xsimd::max;
    using xsimd::min;
    for (int round = 0; round < N; ++round)
        for (int k = round % 2; k + 1 < N; k += 2) {
            const V lo = min(v[k], v[k + 1]);
            v[k + 1] = max(v[k], v[k + 1]);
            v[k] = lo;
        }
    return v[N / 2];
}

// Elementwise median of N rows: out[i] = median(in[0][i], ..., in[N-1][i]) for i < n.
template <int N>
void median_of_rows(const float* const (&in)[N], float* out, std::size_t n)
{
    using batch = xsimd::batch<float>;
    constexpr std::size_t width = batch::size;
    std::size_t i = 0;
    for (; i + width <= n; i += width) {
        batch v[N];
        for (int k = 0; k < N; ++k) v[k] = batch::load_unaligned(in[k] + i);
        median_network<N>(v).store_unaligned(out + i);
    }
    for (; i < n; ++i) {
        float v[N];
        for (int k = 0; k < N; ++k) v[k] = in[k][i];
        out[i] = median_network<N>(v);
    }
}

CCDX_INTRINSICS_END

// Copies the border of width h (rows and columns) of `from` into `to`.
inline void copy_border(const plane& from, plane& to, std::size_t h)
{
    const std::size_t ny = from.shape()[0], nx = from.shape()[1];
    for (std::size_t j = 0; j < ny; ++j) {
        const float* src = &from(j, 0);
        float* dst = &to(j, 0);
        if (j < h || j + h >= ny) {
            std::copy(src, src + nx, dst);
        } else {
            for (std::size_t i = 0; i < std::min(h, nx); ++i) dst[i] = src[i], dst[nx - 1 - i] = src[nx - 1 - i];
        }
    }
}

template <int N>
void separable_median(const plane& in, plane& out, plane& rows)
{
    constexpr std::size_t h = N / 2;
    const std::size_t ny = in.shape()[0], nx = in.shape()[1];
    out.resize({ny, nx});
    rows.resize({ny, nx});
    if (nx <= 2 * h || ny <= 2 * h) {
        std::copy(in.begin(), in.end(), out.begin());
        return;
    }
    for (std::size_t j = 0; j < ny; ++j) {
        const float* src[N];
        for (int k = 0; k < N; ++k) src[k] = &in(j, 0) + k;  // src[k][i - h] = in(j, i - h + k)
        median_of_rows<N>(src, &rows(j, h), nx - 2 * h);
    }
    for (std::size_t j = h; j < ny - h; ++j) {
        const float* src[N];
        for (int k = 0; k < N; ++k) src[k] = &rows(j - h + static_cast<std::size_t>(k), h);
        median_of_rows<N>(src, &out(j, h), nx - 2 * h);
    }
    copy_border(in, out, h);
}

template <int N>
plane separable_median(const plane& in)
{
    plane out, rows;
    separable_median<N>(in, out, rows);
    return out;
}

// Full n x n median; a border of n/2 keeps the input values.
inline plane box_median(const plane& in, std::size_t n)
{
    plane out = ccdx::median_filter(in, n);
    copy_border(in, out, n / 2);
    return out;
}

// The positive part of the Laplacian of the image subsampled 2x (each pixel a 2x2 block of
// its value), zero outside the image, averaged back over each 2x2 block: the paper's L+.
// Each subpixel's Laplacian 4v - right - left - below - above is evaluated in that order.
inline void laplacian_plus(const plane& in, plane& out)
{
    const std::size_t ny = in.shape()[0], nx = in.shape()[1];
    out.resize({ny, nx});
    if (nx == 0) return;
    std::vector<float> zero(nx + 2, 0.0f), row(nx + 2, 0.0f);
    for (std::size_t j = 0; j < ny; ++j) {
        // The row framed by a zero on each side; the rows above and below, zero outside.
        std::copy(&in(j, 0), &in(j, 0) + nx, row.begin() + 1);
        const float* up = j > 0 ? &in(j - 1, 0) : zero.data();
        const float* down = j + 1 < ny ? &in(j + 1, 0) : zero.data();
        const float* mid = row.data() + 1;
        const float* mid_left = row.data();
        const float* mid_right = row.data() + 2;
        float* dst = &out(j, 0);
        for (std::size_t i = 0; i < nx; ++i) {
            const float v = mid[i], four = 4.0f * v;
            const float left = mid_left[i], right = mid_right[i];
            const float above = up[i], below = down[i];
            // Subpixels: (top, left), (bottom, left), (bottom, right), (top, right).
            const float tl = std::max(0.0f, four - v - left - v - above);
            const float bl = std::max(0.0f, four - v - left - below - v);
            const float br = std::max(0.0f, four - right - v - below - v);
            const float tr = std::max(0.0f, four - right - v - v - above);
            dst[i] = (tl + bl + br + tr) / 4.0f;
        }
    }
}

inline plane laplacian_plus(const plane& in)
{
    plane out;
    laplacian_plus(in, out);
    return out;
}

// 3x3 growth into `out`; the one-pixel border keeps its input value.
inline void dilate3(const flags& in, flags& out)
{
    const std::size_t ny = in.shape()[0], nx = in.shape()[1];
    out.resize({ny, nx});
    std::copy(in.begin(), in.end(), out.begin());
    if (ny < 3 || nx < 3) return;
    for (std::size_t j = 1; j + 1 < ny; ++j) {
        const std::uint8_t* a = &in(j - 1, 0);
        const std::uint8_t* b = &in(j, 0);
        const std::uint8_t* c = &in(j + 1, 0);
        std::uint8_t* d = &out(j, 0);
        for (std::size_t i = 1; i + 1 < nx; ++i)
            d[i] = static_cast<std::uint8_t>(
                (a[i - 1] | a[i] | a[i + 1] | b[i - 1] | b[i] | b[i + 1] | c[i - 1] | c[i] | c[i + 1]) != 0);
    }
}

inline flags dilate3(const flags& in)
{
    flags out;
    dilate3(in, out);
    return out;
}

// `times` rounds of growth by a 5x5 box without its corners, nothing outside the image.
inline flags dilate5(flags in, int times)
{
    const auto ny = static_cast<std::ptrdiff_t>(in.shape()[0]), nx = static_cast<std::ptrdiff_t>(in.shape()[1]);
    for (int t = 0; t < times; ++t) {
        flags out = xt::zeros<std::uint8_t>(in.shape());
        for (std::ptrdiff_t j = 0; j < ny; ++j)
            for (std::ptrdiff_t i = 0; i < nx; ++i) {
                if (!in(j, i)) continue;
                for (std::ptrdiff_t dy = -2; dy <= 2; ++dy)
                    for (std::ptrdiff_t dx = -2; dx <= 2; ++dx) {
                        if ((dy == -2 || dy == 2) && (dx == -2 || dx == 2)) continue;
                        const std::ptrdiff_t y = j + dy, x = i + dx;
                        if (y >= 0 && y < ny && x >= 0 && x < nx) out(y, x) = 1;
                    }
            }
        in = std::move(out);
    }
    return in;
}

// Convolution with zero padding (the kernel flipped, as convolution is defined).
inline plane convolve(const plane& in, const plane& kernel)
{
    const auto ny = static_cast<std::ptrdiff_t>(in.shape()[0]), nx = static_cast<std::ptrdiff_t>(in.shape()[1]);
    const auto ky = static_cast<std::ptrdiff_t>(kernel.shape()[0]), kx = static_cast<std::ptrdiff_t>(kernel.shape()[1]);
    const std::ptrdiff_t hy = (ky - 1) / 2, hx = (kx - 1) / 2;
    plane out = plane::from_shape(in.shape());
    for (std::ptrdiff_t j = 0; j < ny; ++j)
        for (std::ptrdiff_t i = 0; i < nx; ++i) {
            float sum = 0.0f;
            for (std::ptrdiff_t l = -hy; l <= hy; ++l) {
                const std::ptrdiff_t y = j + l;
                if (y < 0 || y >= ny) continue;
                for (std::ptrdiff_t k = -hx; k <= hx; ++k) {
                    const std::ptrdiff_t x = i + k;
                    if (x < 0 || x >= nx) continue;
                    sum += kernel(static_cast<std::size_t>(hy - l), static_cast<std::size_t>(hx - k)) * in(y, x);
                }
            }
            out(j, i) = sum;
        }
    return out;
}

// PSF kernels of size n x n centred on pixel n/2, normalised to unit sum.
enum class kernel_shape { gauss, gauss_x, gauss_y, moffat };

inline plane psf_kernel(kernel_shape shape, double fwhm, int n, double beta)
{
    plane k = plane::from_shape({static_cast<std::size_t>(n), static_cast<std::size_t>(n)});
    const double sigma2 = fwhm * fwhm / 2.35482 / 2.35482;
    const double hwhm = fwhm / 2.0;
    const double alpha = hwhm / std::sqrt(std::pow(2.0, 1.0 / beta) - 1.0);
    float sum = 0.0f;
    for (int j = 0; j < n; ++j)
        for (int i = 0; i < n; ++i) {
            const double x = i - n / 2, y = j - n / 2;
            double v = 0;
            switch (shape) {
            case kernel_shape::gauss: v = std::exp(-0.5 * (x * x + y * y) / sigma2); break;
            case kernel_shape::gauss_x: v = std::exp(-0.5 * x * x / sigma2); break;
            case kernel_shape::gauss_y: v = std::exp(-0.5 * y * y / sigma2); break;
            case kernel_shape::moffat: v = std::pow(1.0 + (x * x + y * y) / alpha / alpha, -beta); break;
            }
            k(static_cast<std::size_t>(j), static_cast<std::size_t>(i)) = static_cast<float>(v);
            sum += static_cast<float>(v);
        }
    for (auto& v : k) v /= sum;
    return k;
}

// Lower median (element (n-1)/2 in order) of the first n values, reordering them.
inline float lower_median(float* v, std::size_t n)
{
    std::nth_element(v, v + (n - 1) / 2, v + n);
    return v[(n - 1) / 2];
}

enum class cleaning { median, medmask, meanmask, idw };

// Replaces each pixel flagged in `hits` (at least 2 pixels from the edges) by a value from
// its 5x5 neighbourhood: the mean, median or inverse-distance weighted mean of the
// neighbours that are neither hits nor `bad` (fallback() when there are none), or the
// plain median of all 25 for `median`.
template <class Fallback>
void clean(plane& img, const flags& hits, const flags& bad, cleaning how, const Fallback& fallback)
{
    std::optional<float> fallback_value;
    const std::size_t ny = img.shape()[0], nx = img.shape()[1];
    if (ny < 5 || nx < 5) return;
    float window[25];
    float weight[5][5];
    for (int l = 0; l < 5; ++l)
        for (int k = 0; k < 5; ++k) {
            const int d2 = (l - 2) * (l - 2) + (k - 2) * (k - 2);
            weight[l][k] = d2 == 0 ? 0.0f : static_cast<float>(1.0 / std::sqrt(static_cast<double>(d2)));
        }
    for (std::size_t j = 2; j + 2 < ny; ++j)
        for (std::size_t i = 2; i + 2 < nx; ++i) {
            if (!hits(j, i)) continue;
            std::size_t n = 0;
            float sum = 0.0f, weighted = 0.0f, weights = 0.0f;
            for (std::size_t l = 0; l < 5; ++l)
                for (std::size_t k = 0; k < 5; ++k) {
                    const std::size_t y = j + l - 2, x = i + k - 2;
                    const float v = img(y, x);
                    if (how != cleaning::median && (hits(y, x) || bad(y, x))) continue;
                    window[n++] = v;
                    sum = sum + v;
                    weighted = weighted + weight[l][k] * v;
                    weights = weights + weight[l][k];
                }
            const bool usable = how == cleaning::median || (how == cleaning::idw ? weights >= 1e-6f : n > 0);
            if (!usable && !fallback_value) fallback_value = fallback();
            float value = usable ? 0.0f : *fallback_value;
            switch (how) {
            case cleaning::median: value = lower_median(window, n); break;
            case cleaning::medmask:
                if (n > 0) value = lower_median(window, n);
                break;
            case cleaning::meanmask:
                if (n > 0) value = static_cast<float>(static_cast<double>(sum) / static_cast<double>(n));
                break;
            case cleaning::idw:
                if (weights >= 1e-6f) value = weighted / weights;
                break;
            }
            img(j, i) = value;
        }
}

}  // namespace ccdx::detail::lacosmic
