#pragma once
// The image operations L.A.Cosmic is built from (van Dokkum 2001, PASP 113, 1420), in single
// precision as the reference implementation works: small median filters (separable or full)
// that leave a border of the filter's half width unfiltered, the Laplacian of the 2x
// subsampled image, boolean growth, PSF kernels and the masked cleaning filters.

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <vector>

#include <xtensor/xtensor.hpp>

#include "ccdx/median_filter.hpp"

namespace ccdx::detail::lacosmic {

using plane = xt::xtensor<float, 2>;
using flags = xt::xtensor<std::uint8_t, 2>;

// Median of n values (n odd, at most 9) by an odd-even transposition network of min/max:
// no branches, so a loop over pixels vectorises.
template <int N>
inline float median_of(float (&v)[N]) noexcept
{
    static_assert(N % 2 == 1 && N <= 9, "odd windows up to 9");
    for (int round = 0; round < N; ++round)
        for (int i = round % 2; i + 1 < N; i += 2) {
            const float lo = std::min(v[i], v[i + 1]);
            const float hi = std::max(v[i], v[i + 1]);
            v[i] = lo;
            v[i + 1] = hi;
        }
    return v[N / 2];
}

// Copies the border of width h (rows and columns) of `from` into `to`.
inline void copy_border(const plane& from, plane& to, std::size_t h)
{
    const std::size_t ny = from.shape()[0], nx = from.shape()[1];
    for (std::size_t j = 0; j < ny; ++j) {
        const bool edge_row = j < h || j + h >= ny;
        for (std::size_t i = 0; i < nx; ++i)
            if (edge_row || i < h || i + h >= nx) to(j, i) = from(j, i);
    }
}

// Separable N-point median: rows first, then columns of that result. Pixels closer than
// N/2 to an edge keep their input value (in the row pass as in the output).
template <int N>
plane separable_median(const plane& in)
{
    constexpr std::size_t h = N / 2;
    const std::size_t ny = in.shape()[0], nx = in.shape()[1];
    plane rows = in;
    plane out = in;
    if (nx > 2 * h)
        for (std::size_t j = 0; j < ny; ++j) {
            const float* src = &in(j, 0);
            float* dst = &rows(j, 0);
            for (std::size_t i = h; i < nx - h; ++i) {
                float v[N];
                for (int k = 0; k < N; ++k) v[k] = src[i - h + static_cast<std::size_t>(k)];
                dst[i] = median_of<N>(v);
            }
        }
    if (nx > 2 * h && ny > 2 * h)
        for (std::size_t j = h; j < ny - h; ++j) {
            float* dst = &out(j, 0);
            const float* src[N];
            for (int k = 0; k < N; ++k) src[k] = &rows(j - h + static_cast<std::size_t>(k), 0);
            for (std::size_t i = h; i < nx - h; ++i) {
                float v[N];
                for (int k = 0; k < N; ++k) v[k] = src[k][i];
                dst[i] = median_of<N>(v);
            }
        }
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
inline plane laplacian_plus(const plane& in)
{
    const std::size_t ny = in.shape()[0], nx = in.shape()[1];
    // A zero frame around the image makes every pixel an interior one.
    plane pad = xt::zeros<float>({ny + 2, nx + 2});
    for (std::size_t j = 0; j < ny; ++j)
        std::copy(&in(j, 0), &in(j, 0) + nx, &pad(j + 1, 1));
    plane out = plane::from_shape({ny, nx});
    for (std::size_t j = 0; j < ny; ++j) {
        const float* up = &pad(j, 1);
        const float* mid = &pad(j + 1, 1);
        const float* mid_left = &pad(j + 1, 0);
        const float* mid_right = &pad(j + 1, 2);
        const float* down = &pad(j + 2, 1);
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
    return out;
}

// 3x3 growth; the one-pixel border keeps its input value.
inline flags dilate3(const flags& in)
{
    const std::size_t ny = in.shape()[0], nx = in.shape()[1];
    flags out = in;
    if (ny < 3 || nx < 3) return out;
    for (std::size_t j = 1; j + 1 < ny; ++j)
        for (std::size_t i = 1; i + 1 < nx; ++i)
            out(j, i) = static_cast<std::uint8_t>((in(j - 1, i - 1) | in(j - 1, i) | in(j - 1, i + 1) | in(j, i - 1) |
                                                   in(j, i) | in(j, i + 1) | in(j + 1, i - 1) | in(j + 1, i) |
                                                   in(j + 1, i + 1)) != 0);
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
// neighbours that are neither hits nor `bad` (`fallback` when there are none), or the
// plain median of all 25 for `median`.
inline void clean(plane& img, const flags& hits, const flags& bad, cleaning how, float fallback)
{
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
            float value = fallback;
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
