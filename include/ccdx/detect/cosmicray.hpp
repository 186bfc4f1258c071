#pragma once
// Cosmic-ray detection and cleaning.
//
// cosmicray_median: a pixel is a hit when it stands more than `thresh` errors above the
// median of the mbox x mbox box around it (IRAF crmedian, ccdproc's cosmicray_median).
//
// cosmicray_lacosmic: L.A.Cosmic (van Dokkum 2001, PASP 113, 1420), with the choices of
// astroscrappy, which ccdproc calls. In electrons, per iteration:
//   L+  = the positive Laplacian of the image subsampled 2x, averaged back to the pixel grid;
//   S   = L+ / (2 N), N the noise expected from the median-smoothed image and the read noise;
//   S'  = S - median(S) removes smooth structure (stars, sky gradients);
//   F   = (median3(I) - median7(median3(I))) / N, the fine structure a PSF would leave;
//   a hit needs S' > sigclip and S'/F > objlim (stars are smooth at the sampling scale,
//   a cosmic ray is sharper than the PSF). Hits grow into neighbours with S' > sigclip,
//   then again with S' > sigfrac * sigclip; hits are replaced by their masked 5x5 mean and
//   the next iteration runs on the cleaned image. Saturated stars (at or above satlevel and
//   with a bright smoothed core) are masked first, so they are never taken for hits.
//
// Both return a copy of the image with the hits marked mask_bits::cosmic_ray (OR'd into any
// mask it had) and, where asked, cleaned values.

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <xtensor/xtensor.hpp>

#include "ccdx/core/detail/warning.hpp"
#include "ccdx/core/error.hpp"
#include "ccdx/core/image.hpp"
#include "ccdx/core/mask.hpp"
#include "ccdx/core/quantity.hpp"
#include "ccdx/core/unit.hpp"
#include "ccdx/detect/detail/lacosmic.hpp"
#include "ccdx/detect/median_filter.hpp"

namespace ccdx {

// ---------------------------------------------------------------------------------------
// cosmicray_median

struct cosmicray_median_options {
    double thresh = 5.0;      // hits stand more than thresh errors above the local median
    std::size_t mbox = 11;    // box of the local median
    std::size_t rbox = 0;     // replace hits by the median of an rbox box (0: keep the values)
    std::size_t gbox = 0;     // grow hits by a gbox box (0: no growth)
    // One error for every pixel. Without it (and without an error image) the image's
    // uncertainty is the error, or, for an image without one, the standard deviation of its
    // pixels.
    std::optional<double> error;
};

namespace detail {

// Max over a rows x cols box (reflected edges, windows placed as in the rank filters).
inline xt::xtensor<std::uint8_t, 2> grow_box(const xt::xtensor<std::uint8_t, 2>& in, std::size_t size)
{
    const std::size_t ny = in.shape()[0], nx = in.shape()[1];
    const auto before = static_cast<std::ptrdiff_t>(size / 2);
    xt::xtensor<std::uint8_t, 2> rows = xt::zeros<std::uint8_t>(in.shape());
    xt::xtensor<std::uint8_t, 2> out = xt::zeros<std::uint8_t>(in.shape());
    for (std::size_t j = 0; j < ny; ++j)
        for (std::size_t i = 0; i < nx; ++i)
            for (std::size_t k = 0; k < size && !rows(j, i); ++k)
                rows(j, i) = in(j, reflect_index(static_cast<std::ptrdiff_t>(i + k) - before, nx));
    for (std::size_t j = 0; j < ny; ++j)
        for (std::size_t i = 0; i < nx; ++i)
            for (std::size_t k = 0; k < size && !out(j, i); ++k)
                out(j, i) = rows(reflect_index(static_cast<std::ptrdiff_t>(j + k) - before, ny), i);
    return out;
}

// Median of the size x size box around (y, x), edges reflected (one pixel, no filter pass).
template <class T>
T box_median_at(const xt::xtensor<T, 2>& in, std::size_t y, std::size_t x, std::size_t size, std::vector<T>& scratch)
{
    const std::size_t ny = in.shape()[0], nx = in.shape()[1];
    const auto before = static_cast<std::ptrdiff_t>(size / 2);
    scratch.clear();
    for (std::size_t l = 0; l < size; ++l)
        for (std::size_t k = 0; k < size; ++k)
            scratch.push_back(in(reflect_index(static_cast<std::ptrdiff_t>(y + l) - before, ny),
                                 reflect_index(static_cast<std::ptrdiff_t>(x + k) - before, nx)));
    const std::size_t rank = scratch.size() / 2;
    std::nth_element(scratch.begin(), scratch.begin() + static_cast<std::ptrdiff_t>(rank), scratch.end(),
                     [](T a, T b) { return a < b || (!std::isnan(a) && std::isnan(b)); });
    return scratch[rank];
}

template <class T, class ErrorAt>
image<T> median_detection(const image<T>& ccd, const cosmicray_median_options& o, ErrorAt error_at)
{
    if (o.mbox == 0) throw value_error("cosmicray_median: mbox must be at least 1");
    const auto& data = ccd.data();
    const xt::xtensor<T, 2> background = median_filter(data, o.mbox);
    const std::size_t n = data.size();
    xt::xtensor<std::uint8_t, 2> hits = xt::zeros<std::uint8_t>(data.shape());
    for (std::size_t i = 0; i < n; ++i)
        hits.data()[i] = (data.data()[i] - background.data()[i]) / error_at(i) > o.thresh;
    if (o.gbox > 0) hits = grow_box(hits, o.gbox);

    image<T> out = ccd;
    if (o.rbox > 0) {
        // The replacement median includes the hits themselves, as the reference does.
        std::vector<T> scratch;
        for (std::size_t y = 0; y < data.shape()[0]; ++y)
            for (std::size_t x = 0; x < data.shape()[1]; ++x)
                if (hits(y, x)) out.data()(y, x) = box_median_at(data, y, x, o.rbox, scratch);
    }
    mark_mask(out.ensure_mask(), hits, mask_bits::cosmic_ray);
    return out;
}

}  // namespace detail

// Hits against the image's own error: its uncertainty, or options.error, or (neither) the
// standard deviation of the pixels.
template <class T>
image<T> cosmicray_median(const image<T>& ccd, const cosmicray_median_options& options = {})
{
    if (options.error) {
        const T e = static_cast<T>(*options.error);
        return detail::median_detection(ccd, options, [e](std::size_t) { return e; });
    }
    if (ccd.has_uncertainty()) {
        const T* e = ccd.uncertainty().data();
        return detail::median_detection(ccd, options, [e](std::size_t i) { return e[i]; });
    }
    // Population standard deviation of the finite pixels.
    double sum = 0, sum2 = 0;
    std::size_t count = 0;
    for (const T v : ccd.data())
        if (std::isfinite(v)) sum += v, ++count;
    const double mean = count ? sum / static_cast<double>(count) : 0.0;
    for (const T v : ccd.data())
        if (std::isfinite(v)) sum2 += (v - mean) * (v - mean);
    const T sigma = static_cast<T>(count ? std::sqrt(sum2 / static_cast<double>(count)) : 0.0);
    return detail::median_detection(ccd, options, [sigma](std::size_t) { return sigma; });
}

// Hits against an error image of the same shape.
template <class T>
image<T> cosmicray_median(const image<T>& ccd, const xt::xtensor<T, 2>& error_image,
                          const cosmicray_median_options& options = {})
{
    if (error_image.shape()[0] != ccd.rows() || error_image.shape()[1] != ccd.cols())
        throw shape_error("cosmicray_median: error image shape " +
                          to_string(shape2{error_image.shape()[0], error_image.shape()[1]}) +
                          " does not match the image shape " + to_string(ccd.shape()));
    const T* e = error_image.data();
    return detail::median_detection(ccd, options, [e](std::size_t i) { return e[i]; });
}

// ---------------------------------------------------------------------------------------
// cosmicray_lacosmic

enum class lacosmic_clean {
    median,    // plain 5x5 median
    medmask,   // 5x5 median of the neighbours that are neither hits nor masked
    meanmask,  // 5x5 mean of those neighbours
    idw        // 5x5 inverse-distance weighted mean of those neighbours
};
enum class fine_structure {
    median,   // median3 - median7(median3): the paper's fine-structure image
    convolve  // matched filter: the image convolved with the PSF, weighted by the noise
};
enum class psf_model { gauss, gaussx, gaussy, moffat };

struct lacosmic_options {
    double sigclip = 4.5;  // S' limit for a hit
    double sigfrac = 0.3;  // neighbours need S' > sigfrac * sigclip
    double objlim = 5.0;   // S' / F limit: contrast against the fine structure
    // Electrons per image unit; a dimensionless gain counts as electron / adu.
    quantity gain{1.0, unit("electron / adu")};
    // In electrons; a dimensionless read noise counts as electron.
    quantity readnoise{6.5, unit("electron")};
    double satlevel = 65535.0;  // electrons
    int niter = 4;
    bool sepmed = true;  // separable medians (faster; nearly the same as full boxes)
    lacosmic_clean cleantype = lacosmic_clean::meanmask;
    fine_structure fsmode = fine_structure::median;
    psf_model psfmodel = psf_model::gauss;
    double psffwhm = 2.5;
    int psfsize = 7;
    double psfbeta = 4.765;
    std::optional<xt::xtensor<float, 2>> psfk;  // a PSF kernel of one's own (fsmode convolve)
    // A background known beforehand (image units): left out of the noise smoothing and the
    // detection, kept in the result. A variance known beforehand (image units squared).
    std::optional<xt::xtensor<float, 2>> inbkg;
    std::optional<xt::xtensor<float, 2>> invar;
    bool gain_apply = true;  // return the image in electrons (data and uncertainty times gain)
    warning_handler warn;    // where warnings go (null: std::clog)
};

namespace detail::lacosmic {

struct outcome {
    flags hits;
    plane cleaned;  // electrons, background included
};

// L.A.Cosmic on an image in electrons. `bad` pixels are never hits nor used for cleaning.
inline outcome run(plane img, const flags& bad_in, const plane* bkg, const plane* var, const lacosmic_options& o,
                   float gain, float readnoise)
{
    const float sigclip = static_cast<float>(o.sigclip);
    const float sigcliplow = static_cast<float>(o.sigfrac) * sigclip;
    const float objlim = static_cast<float>(o.objlim);
    const float satlevel = static_cast<float>(o.satlevel);

    // Variance per pixel, cleaned along with the image.
    plane variance = plane::from_shape(img.shape());
    const float rn2 = readnoise * readnoise;
    for (std::size_t i = 0; i < img.size(); ++i) {
        const float b = bkg ? bkg->data()[i] : 0.0f;
        variance.data()[i] = var ? var->data()[i] * (gain * gain) - b : img.data()[i] - b + rn2;
    }

    // Saturated stars: saturated pixels on a bright smoothed core, grown by two rounds of a
    // 5x5 disc; the given bad pixels grow by one.
    flags bad;
    {
        const plane smooth = o.sepmed ? separable_median<7>(img) : box_median(img, 5);
        flags saturated = xt::zeros<std::uint8_t>(img.shape());
        for (std::size_t i = 0; i < img.size(); ++i)
            saturated.data()[i] = img.data()[i] >= satlevel && smooth.data()[i] > satlevel / 10.0f;
        const flags grown = dilate3(bad_in);
        bad = dilate5(std::move(saturated), 2);
        for (std::size_t i = 0; i < bad.size(); ++i) bad.data()[i] = bad.data()[i] | grown.data()[i];
    }

    if (bkg)
        for (std::size_t i = 0; i < img.size(); ++i) img.data()[i] -= bkg->data()[i];

    // Fallbacks for hits with no usable neighbour: the median of the good pixels (of the
    // image as it is here, before any cleaning). Rarely needed, so worked out on demand.
    const plane original = img, original_variance = variance;
    const auto good_median = [&bad](const plane& values) {
        std::vector<float> good;
        good.reserve(values.size());
        for (std::size_t i = 0; i < values.size(); ++i)
            if (!bad.data()[i]) good.push_back(values.data()[i]);
        return good.empty() ? 0.0f : lower_median(good.data(), good.size());
    };
    const auto background_level = [&] { return good_median(original); };
    const auto background_variance = [&] { return good_median(original_variance); };

    plane psf;
    if (o.fsmode == fine_structure::convolve) {
        if (o.psfk) {
            psf = *o.psfk;
        } else {
            const kernel_shape shape = o.psfmodel == psf_model::gauss    ? kernel_shape::gauss
                                       : o.psfmodel == psf_model::gaussx ? kernel_shape::gauss_x
                                       : o.psfmodel == psf_model::gaussy ? kernel_shape::gauss_y
                                                                         : kernel_shape::moffat;
            const plane k = psf_kernel(shape, o.psffwhm, o.psfsize, o.psfbeta);
            psf = plane::from_shape(k.shape());  // flipped, so that convolving correlates
            const std::size_t n = k.shape()[0], m = k.shape()[1];
            for (std::size_t j = 0; j < n; ++j)
                for (std::size_t i = 0; i < m; ++i) psf(j, i) = k(n - 1 - j, m - 1 - i);
        }
    }

    // Buffers reused by every iteration.
    flags hits = xt::zeros<std::uint8_t>(img.shape());
    flags found = flags::from_shape(img.shape()), grown = flags::from_shape(img.shape());
    plane s, noise, sp, f, f_smooth, scratch;
    const auto median7 = [&](const plane& in, plane& out) {
        if (o.sepmed) separable_median<7>(in, out, scratch);
        else out = box_median(in, 5);
    };
    const std::size_t n = img.size();
    for (int iteration = 0; iteration < o.niter; ++iteration) {
        // S = L+ / (2 N), N from the smoothed variance.
        laplacian_plus(img, s);
        median7(variance, noise);
        for (std::size_t i = 0; i < n; ++i) {
            float v = noise.data()[i] + (bkg ? bkg->data()[i] : 0.0f);
            if (v < 0.00001f) v = 0.00001f;
            noise.data()[i] = std::sqrt(v);
            s.data()[i] = s.data()[i] / (2.0f * noise.data()[i]);
        }
        // S' = S - median(S)
        median7(s, sp);
        for (std::size_t i = 0; i < n; ++i) sp.data()[i] = s.data()[i] - sp.data()[i];

        // Fine structure F, in units of the noise, floored at 0.01.
        if (o.fsmode == fine_structure::median) {
            if (o.sepmed) separable_median<5>(img, f, scratch);
            else f = box_median(img, 3);
        } else {
            plane weighted = plane::from_shape(img.shape()), weights = plane::from_shape(img.shape());
            for (std::size_t i = 0; i < n; ++i) {
                const float nz = noise.data()[i];
                weighted.data()[i] = img.data()[i] / nz / nz;
                weights.data()[i] = 1.0f / nz / nz;
            }
            f = convolve(weighted, psf);
            const plane norm = convolve(weights, psf);
            for (std::size_t i = 0; i < n; ++i) f.data()[i] = f.data()[i] / norm.data()[i];
        }
        if (o.sepmed) separable_median<9>(f, f_smooth, scratch);
        else f_smooth = box_median(f, 7);

        for (std::size_t i = 0; i < n; ++i) {
            float fine = (f.data()[i] - f_smooth.data()[i]) / noise.data()[i];
            if (fine < 0.01f) fine = 0.01f;
            const float spi = sp.data()[i];
            found.data()[i] = !bad.data()[i] && spi > sigclip && spi / fine > objlim;
        }
        // Neighbours of hits: first with the full limit, then with the lower one.
        dilate3(found, grown);
        for (std::size_t i = 0; i < n; ++i)
            grown.data()[i] = grown.data()[i] && !bad.data()[i] && sp.data()[i] > sigclip;
        dilate3(grown, found);
        std::size_t count = 0;
        for (std::size_t i = 0; i < n; ++i) {
            const bool hit = found.data()[i] && !bad.data()[i] && sp.data()[i] > sigcliplow;
            count += hit;
            hits.data()[i] = hits.data()[i] | hit;
        }
        if (count == 0) break;

        const cleaning how = o.cleantype == lacosmic_clean::median    ? cleaning::median
                             : o.cleantype == lacosmic_clean::medmask ? cleaning::medmask
                             : o.cleantype == lacosmic_clean::idw     ? cleaning::idw
                                                                      : cleaning::meanmask;
        clean(img, hits, bad, how, background_level);
        clean(variance, hits, bad, how, background_variance);
    }
    if (bkg)
        for (std::size_t i = 0; i < img.size(); ++i) img.data()[i] += bkg->data()[i];
    return {std::move(hits), std::move(img)};
}

}  // namespace detail::lacosmic

template <class T>
image<T> cosmicray_lacosmic(const image<T>& ccd, const lacosmic_options& o = {})
{
    const unit electron("electron");
    quantity gain = o.gain;
    if (gain.unit.is_dimensionless()) gain.unit = unit("electron / adu");
    quantity readnoise = o.readnoise;
    if (readnoise.unit.is_dimensionless()) readnoise.unit = electron;

    // Units as ccdproc checks them: the gain must take the image to the read noise's unit. An
    // image in electrons with a gain is warned about and goes on, gain applied, as there (a
    // night's script should not stop on it).
    if (ccd.unit().convertible_to(electron) && gain.value != 1.0) {
        detail::warn(o.warn, "cosmicray_lacosmic: the image is already in " + ccd.unit().to_string() +
                                 " but the gain is " + to_string(gain) + "; it may be applied twice");
    } else if (ccd.unit().convertible_to(electron)) {
        gain.unit = unit();
    } else if (!(ccd.unit() * gain.unit).convertible_to(readnoise.unit)) {
        throw unit_error("cosmicray_lacosmic: inconsistent units for gain (" + gain.unit.to_string() + "), image (" +
                         ccd.unit().to_string() + ") and read noise (" + readnoise.unit.to_string() + ")");
    }
    if (o.niter < 0) throw value_error("cosmicray_lacosmic: niter must not be negative");
    if (o.fsmode == fine_structure::convolve && !o.psfk && (o.psfsize < 1 || o.psfsize % 2 == 0))
        throw value_error("cosmicray_lacosmic: psfsize must be odd and positive, got " + std::to_string(o.psfsize));
    for (const auto* extra : {&o.inbkg, &o.invar})
        if (*extra && ((*extra)->shape()[0] != ccd.rows() || (*extra)->shape()[1] != ccd.cols()))
            throw shape_error("cosmicray_lacosmic: " + std::string(extra == &o.inbkg ? "inbkg" : "invar") + " shape " +
                              to_string(shape2{(*extra)->shape()[0], (*extra)->shape()[1]}) +
                              " does not match the image shape " + to_string(ccd.shape()));

    const auto g = static_cast<float>(gain.value);
    const std::size_t n = ccd.size();
    detail::lacosmic::plane electrons = detail::lacosmic::plane::from_shape({ccd.rows(), ccd.cols()});
    for (std::size_t i = 0; i < n; ++i)
        electrons.data()[i] = static_cast<float>(static_cast<double>(ccd.data().data()[i]) * gain.value);
    detail::lacosmic::flags bad = xt::zeros<std::uint8_t>(electrons.shape());
    if (ccd.has_mask())
        for (std::size_t i = 0; i < n; ++i) bad.data()[i] = ccd.mask().data()[i] != 0;
    std::optional<detail::lacosmic::plane> bkg;
    if (o.inbkg) {
        bkg = *o.inbkg;
        for (auto& v : *bkg) v *= g;
    }
    auto result = detail::lacosmic::run(std::move(electrons), bad, bkg ? &*bkg : nullptr, o.invar ? &*o.invar : nullptr,
                                        o, g, static_cast<float>(readnoise.value));

    image<T> out = ccd;
    const double scale = o.gain_apply ? gain.value : 1.0;
    for (std::size_t i = 0; i < n; ++i) {
        T& v = out.data().data()[i];
        // Hits take the cleaned value; every other pixel keeps its own, in full precision.
        v = result.hits.data()[i] ? static_cast<T>(static_cast<double>(result.cleaned.data()[i]) / gain.value * scale)
                                  : static_cast<T>(static_cast<double>(v) * scale);
    }
    if (o.gain_apply) {
        if (out.has_uncertainty()) out.uncertainty() *= static_cast<T>(gain.value);
        out.set_unit(ccd.unit() * gain.unit);
    }
    mark_mask(out.ensure_mask(), result.hits, mask_bits::cosmic_ray);
    return out;
}

}  // namespace ccdx
