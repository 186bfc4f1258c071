#pragma once
// Combining a stack of images pixel by pixel: average (weighted), median or sum, after
// rejecting values by thresholds, by rank (the nlow lowest and nhigh highest) and by sigma
// clipping, in memory (the result written to options.output when set); combine_files.hpp streams FITS files through the
// same kernel in row bands under a memory limit.
//
//   ccdx::combine_options o;
//   o.method = ccdx::combine_method::median;
//   ccdx::image<float> master_bias = ccdx::combine(bias_files, o);
//
// Semantics follow ccdproc's combine (see the notes on each option); where ccdproc loses
// information ccdx keeps it: input masks stay masked when clipping adds its own rejections,
// weights of rejected values leave the average, and the header records NCOMBINE and IMCMBnnn.
//
// The per-pixel work runs on a SIMD batch of pixels at a time, one lane per pixel: the values
// of the stack are loaded as N batches and ordered by a sorting network (min/max, no branch),
// so a median or a rank costs the same whichever values the pixels hold.

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <limits>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <xsimd/xsimd.hpp>
#include <xtensor/xtensor.hpp>

#include "ccdx/core/detail/pages.hpp"
#include "ccdx/core/detail/threads.hpp"
#include "ccdx/core/error.hpp"
#include "ccdx/core/image.hpp"
#include "ccdx/core/statistics.hpp"
#include "ccdx/expr/detail/simd.hpp"
#include "ccdx/io/fits.hpp"
#include "ccdx/stack/detail/sorting_network.hpp"

#ifdef CCDX_USE_OPENMP
#include <omp.h>
#endif

namespace ccdx {

enum class combine_method { average, median, sum };

// The centre of sigma clipping, and how the spread about it is measured. As in astropy,
// the deviation does not depend on the centre: `std` is about the mean, `mad_std`
// (1.4826 x the median absolute deviation) about the median.
enum class clip_center { mean, median };
enum class clip_deviation {
    std,
    mad_std,
    noise_model,  // IRAF's ccdclip: the spread a CCD gives at the centre value (see ccd_noise)
};

// A CCD's noise, for clip_deviation::noise_model. At a level c (data units) the expected
// standard deviation is sqrt((read_noise / gain)^2 + c / gain + (sensitivity * c)^2).
struct ccd_noise {
    double read_noise = 0;   // electrons
    double gain = 1;         // electrons per data unit
    double sensitivity = 0;  // fraction of the signal (IRAF's snoise)
};

// Rejects values below centre - low x deviation or above centre + high x deviation
// (a value on a bound stays). Infinite values are always rejected.
struct sigma_clip {
    double low = 3;
    double high = 3;
    clip_center center = clip_center::mean;         // ccdproc's Combiner default
    clip_deviation deviation = clip_deviation::std;
    ccd_noise noise;
    int iterations = 1;  // at most this many passes (ccdproc makes one); below 1: until nothing changes
};

// scatter: the spread of the values kept (ccdproc): std / sqrt(n) for the average, std * sqrt(n)
// for the sum, 1.4826 x MAD / sqrt(n) for the median. propagated: the inputs' own uncertainties,
// combined with the same weights over the values kept (the median's is sqrt(pi / 2) times the
// average's, its efficiency for Gaussian noise).
enum class combined_uncertainty { scatter, propagated };

struct combine_options {
    combine_method method = combine_method::average;

    // --- rejection, applied in this order; a masked or NaN input value is never used ---------
    // Raw values strictly below min_value or above max_value (before scaling).
    std::optional<double> min_value;
    std::optional<double> max_value;
    // The nlow lowest and nhigh highest of each pixel's N values. As in ccdproc, the rank is
    // taken over all N values, masked ones included (NaN ranks highest): a value already
    // masked uses up one of the rejections.
    std::size_t nlow = 0;
    std::size_t nhigh = 0;
    std::optional<ccdx::sigma_clip> sigma_clip;  // on scaled values, over the values still kept

    // --- scaling and weights --------------------------------------------------------------
    // Each image is multiplied by its factor before combining (and before rank and sigma
    // rejection): numbers, one per image, or a function of the image (e.g. inverse_median).
    std::vector<double> scale;
    std::function<double(const image<double>&)> scale_function;
    // Weights for the average and the sum: one per image, and/or one map per image.
    std::vector<double> weights;
    std::vector<xt::xtensor<double, 2>> weight_maps;

    combined_uncertainty uncertainty = combined_uncertainty::scatter;

    // --- combining files --------------------------------------------------------------------
    std::size_t memory_limit = std::size_t(1) << 30;  // bytes of input pixels in flight (at least a row of each)
    read_options read;
    std::filesystem::path output;  // written there when set (write.overwrite to replace a file)
    write_options write;

    int threads = 0;  // 0: OpenMP's default; results do not depend on it
};

// Per-pixel counts, when asked for: values combined, and values rejected below and above
// (by min/max value, rank and clipping; input masks and NaN count in neither).
struct combine_maps {
    xt::xtensor<std::uint16_t, 2> count;
    xt::xtensor<std::uint16_t, 2> rejected_low;
    xt::xtensor<std::uint16_t, 2> rejected_high;
};

// A scale function for flats: brings every image to a median of 1 (masked pixels skipped).
inline double inverse_median(const image<double>& img)
{
    return 1.0 / median(img, true);
}

namespace detail {

// The output mask bit where every value was rejected (mask_bits::bad of mask.hpp).
inline constexpr mask_t all_rejected = 1;

// --- the per-pixel kernel -------------------------------------------------------------------

// Everything about a combination that does not change from pixel to pixel.
template <class T>
struct combine_plan {
    const combine_options* options = nullptr;
    std::size_t n = 0;                        // images in the stack
    std::vector<comparator> sort_all;         // sorts n values
    std::vector<comparator> sort_middle;      // only what the middle one or two need
    std::vector<T> scale;                     // one per image
    std::vector<T> weight;                    // one per image
    bool weighted = false;
    bool propagate = false;

    combine_plan(const combine_options& o, std::size_t images, std::vector<double> factors)
        : options(&o), n(images), sort_all(sorting_network(images)),
          sort_middle(prune_network(sort_all, images, {(images - 1) / 2, images / 2})),
          weighted(!o.weights.empty() || !o.weight_maps.empty()),
          propagate(o.uncertainty == combined_uncertainty::propagated)
    {
        for (std::size_t i = 0; i < n; ++i) {
            scale.push_back(static_cast<T>(factors.empty() ? 1.0 : factors[i]));
            weight.push_back(static_cast<T>(o.weights.empty() ? 1.0 : o.weights[i]));
        }
    }
};

// One row of every image of the stack, and where the row's results go.
template <class T>
struct stack_row {
    std::vector<const T*> data;
    std::vector<const mask_t*> mask;      // nullptr for an image without a mask
    std::vector<const T*> sigma;          // used when propagating
    std::vector<const double*> weight;    // weight-map rows, or nullptr
    T* out = nullptr;
    T* out_sigma = nullptr;
    mask_t* out_mask = nullptr;
    std::uint16_t* count = nullptr;       // these three may be nullptr
    std::uint16_t* low = nullptr;
    std::uint16_t* high = nullptr;
};

CCDX_INTRINSICS_BEGIN  // GCC bug 105593: see expr/detail/simd.hpp

template <class T>
class stack_kernel {
    using B = xsimd::batch<T>;
    using M = typename B::batch_bool_type;
    static constexpr std::size_t W = B::size;

public:
    explicit stack_kernel(const combine_plan<T>& plan)
        : p_(plan), n_(plan.n), v_(n_), s_(n_), idx_(n_), w_(n_), keep_(n_),
          pad_data_(n_ * W), pad_sigma_(n_ * W), pad_weight_(n_ * W), pad_mask_(n_ * W),
          ptr_data_(n_), ptr_sigma_(n_), ptr_weight_(n_), ptr_mask_(n_)
    {
        if (n_ <= max_static_network) {
            constexpr auto sizes = std::make_index_sequence<max_static_network>{};
            sort_all_ = sorters<false>(sizes)[n_ - 1];
            sort_middle_ = sorters<true>(sizes)[n_ - 1];
            sort_pairs_ = pair_sorters(sizes)[n_ - 1];
        }
    }

    void row(const stack_row<T>& r, std::size_t cols)
    {
        std::size_t c = 0;
        for (; c + W <= cols; c += W) batch(r.data.data(), r.mask.data(), r.sigma.data(), r.weight.data(), c, r, c);
        if (c < cols) tail(r, c, cols - c);
    }

private:
    // The last cols % W pixels: copied into padded lanes (NaN, so unused) and run as a batch.
    void tail(const stack_row<T>& r, std::size_t c, std::size_t count)
    {
        for (std::size_t i = 0; i < n_; ++i) {
            for (std::size_t l = 0; l < W; ++l) {
                const bool in = l < count;
                pad_data_[i * W + l] = in ? r.data[i][c + l] : std::numeric_limits<T>::quiet_NaN();
                pad_mask_[i * W + l] = in && r.mask[i] ? r.mask[i][c + l] : mask_t(0);
                pad_sigma_[i * W + l] = in && r.sigma[i] ? r.sigma[i][c + l] : T(0);
                pad_weight_[i * W + l] = in && r.weight[i] ? r.weight[i][c + l] : 1.0;
            }
            ptr_data_[i] = &pad_data_[i * W];
            ptr_mask_[i] = r.mask[i] ? &pad_mask_[i * W] : nullptr;
            ptr_sigma_[i] = r.sigma[i] ? &pad_sigma_[i * W] : nullptr;
            ptr_weight_[i] = r.weight[i] ? &pad_weight_[i * W] : nullptr;
        }
        alignas(64) T out[W], out_sigma[W];
        alignas(64) mask_t out_mask[W];
        alignas(64) std::uint16_t cnt[W], lo[W], hi[W];
        stack_row<T> o;
        o.out = out;
        o.out_sigma = out_sigma;
        o.out_mask = out_mask;
        o.count = r.count ? cnt : nullptr;
        o.low = r.low ? lo : nullptr;
        o.high = r.high ? hi : nullptr;
        batch(ptr_data_.data(), ptr_mask_.data(), ptr_sigma_.data(), ptr_weight_.data(), 0, o, 0);
        std::copy(out, out + count, r.out + c);
        std::copy(out_sigma, out_sigma + count, r.out_sigma + c);
        std::copy(out_mask, out_mask + count, r.out_mask + c);
        if (r.count) std::copy(cnt, cnt + count, r.count + c);
        if (r.low) std::copy(lo, lo + count, r.low + c);
        if (r.high) std::copy(hi, hi + count, r.high + c);
    }

    static B load_converted(const double* p)
    {
        if constexpr (std::is_same_v<T, double>) {
            return B::load_unaligned(p);
        } else {
            alignas(64) T tmp[W];
            for (std::size_t l = 0; l < W; ++l) tmp[l] = static_cast<T>(p[l]);
            return B::load_aligned(tmp);
        }
    }

    // Lanes whose mask byte is zero.
    static M unmasked(const mask_t* m)
    {
        alignas(64) T tmp[W];
        for (std::size_t l = 0; l < W; ++l) tmp[l] = static_cast<T>(m[l]);
        return B::load_aligned(tmp) == B(0);
    }

    static B ones(const M& m) { return xsimd::select(m, B(1), B(0)); }

    B kept_count() const
    {
        B n(0);
        for (std::size_t i = 0; i < n_; ++i) n += ones(keep_[i]);
        return n;
    }

    // The median of x over the kept values (n of them per lane): rejected values become +inf
    // and sort to the top, and each lane picks its middle from the sorted column.
    B kept_median(const std::vector<B>& x, const B& n)
    {
        const B inf(std::numeric_limits<T>::infinity());
        for (std::size_t i = 0; i < n_; ++i) s_[i] = xsimd::select(keep_[i] && (x[i] == x[i]), x[i], inf);
        // With every value kept the middle sits at fixed positions: only its part of the network runs.
        const bool full = xsimd::all(n == B(static_cast<T>(n_)));
        if (sort_all_)
            (full ? sort_middle_ : sort_all_)(s_.data());
        else
            apply_network(full ? p_.sort_middle : p_.sort_all, s_.data());
        const B lo_pos = xsimd::floor((n - B(1)) * B(T(0.5)));
        const B hi_pos = xsimd::floor(n * B(T(0.5)));
        B lo(0), hi(0);
        for (std::size_t k = 0; k < n_; ++k) {
            const B pos(static_cast<T>(k));
            lo = xsimd::select(lo_pos == pos, s_[k], lo);
            hi = xsimd::select(hi_pos == pos, s_[k], hi);
        }
        return xsimd::select(n > B(0), (lo + hi) * B(T(0.5)), B(std::numeric_limits<T>::quiet_NaN()));
    }

    B kept_mean(const std::vector<B>& x, const B& n) const
    {
        B s(0);
        for (std::size_t i = 0; i < n_; ++i) s += xsimd::select(keep_[i], x[i], B(0));
        return s / n;
    }

    // Population standard deviation (ddof 0) about the kept values' mean.
    B kept_std(const std::vector<B>& x, const B& n) const
    {
        const B m = kept_mean(x, n);
        B s(0);
        for (std::size_t i = 0; i < n_; ++i) {
            const B d = x[i] - m;
            s += xsimd::select(keep_[i], d * d, B(0));
        }
        return xsimd::sqrt(s / n);
    }

    B kept_mad_std(const std::vector<B>& x, const B& n)
    {
        const B med = kept_median(x, n);
        for (std::size_t i = 0; i < n_; ++i) w_[i] = xsimd::abs(x[i] - med);
        return B(static_cast<T>(mad_to_std)) * kept_median(w_, n);
    }

    void reject(std::size_t i, const M& low_side, const M& high_side, B& low_count, B& high_count)
    {
        const M lo = keep_[i] && low_side;
        const M hi = keep_[i] && high_side && !lo;
        low_count += ones(lo);
        high_count += ones(hi);
        keep_[i] = keep_[i] && !(lo || hi);
    }

    // The ranks of ccdproc's clip_extrema: positions 0..nlow-1 and n-nhigh..n-1 of the order of
    // all values (rejected ones included; NaN last) are rejected. Each value carries its image
    // index through the network.
    void clip_extrema(B& low_count, B& high_count)
    {
        const combine_options& o = *p_.options;
        const B inf(std::numeric_limits<T>::infinity());
        for (std::size_t i = 0; i < n_; ++i) {
            s_[i] = xsimd::select(v_[i] == v_[i], v_[i], inf);
            idx_[i] = B(static_cast<T>(i));
        }
        if (sort_pairs_) {
            sort_pairs_(s_.data(), idx_.data());
        } else {
            for (const comparator& c : p_.sort_all) {
                const B a = s_[c.lo], b = s_[c.hi];
                const M swap = b < a;
                s_[c.lo] = xsimd::select(swap, b, a);
                s_[c.hi] = xsimd::select(swap, a, b);
                const B ia = idx_[c.lo], ib = idx_[c.hi];
                idx_[c.lo] = xsimd::select(swap, ib, ia);
                idx_[c.hi] = xsimd::select(swap, ia, ib);
            }
        }
        const std::size_t low_end = std::min(o.nlow, n_);
        const std::size_t high_begin = std::max(low_end, o.nhigh >= n_ ? std::size_t(0) : n_ - o.nhigh);
        const M none(false);
        for (std::size_t k = 0; k < n_; ++k) {
            if (k >= low_end && k < high_begin) continue;
            for (std::size_t i = 0; i < n_; ++i) {
                const M hit = idx_[k] == B(static_cast<T>(i));
                if (k < low_end)
                    reject(i, hit, none, low_count, high_count);
                else
                    reject(i, none, hit, low_count, high_count);
            }
        }
    }

    void clip_sigma(B& low_count, B& high_count)
    {
        const ccdx::sigma_clip& c = *p_.options->sigma_clip;
        const B inf(std::numeric_limits<T>::infinity());
        for (std::size_t i = 0; i < n_; ++i) reject(i, v_[i] == -inf, v_[i] == inf, low_count, high_count);
        const int passes = c.iterations < 1 ? static_cast<int>(n_) + 1 : c.iterations;
        for (int pass = 0; pass < passes; ++pass) {
            const B n = kept_count();
            const B centre = c.center == clip_center::mean ? kept_mean(v_, n) : kept_median(v_, n);
            B dev;
            switch (c.deviation) {
            case clip_deviation::std: dev = kept_std(v_, n); break;
            case clip_deviation::mad_std: dev = kept_mad_std(v_, n); break;
            case clip_deviation::noise_model: {
                const T g = static_cast<T>(c.noise.gain);
                const T rn = static_cast<T>(c.noise.read_noise) / g;
                const B level = xsimd::max(centre, B(0));
                const B sens = B(static_cast<T>(c.noise.sensitivity)) * centre;
                dev = xsimd::sqrt(B(rn * rn) + level / B(g) + sens * sens);
                break;
            }
            }
            const B lo = centre - B(static_cast<T>(c.low)) * dev;
            const B hi = centre + B(static_cast<T>(c.high)) * dev;
            M changed(false);
            for (std::size_t i = 0; i < n_; ++i) {
                const M before = keep_[i];
                reject(i, v_[i] < lo, v_[i] > hi, low_count, high_count);
                changed = changed || (before && !keep_[i]);
            }
            if (!xsimd::any(changed)) break;
        }
    }

    void batch(const T* const* data, const mask_t* const* mask, const T* const* sigma, const double* const* wmap,
               std::size_t c, const stack_row<T>& out, std::size_t oc)
    {
        const combine_options& o = *p_.options;
        B low_count(0), high_count(0);
        const B min_value(static_cast<T>(o.min_value.value_or(0)));
        const B max_value(static_cast<T>(o.max_value.value_or(0)));
        for (std::size_t i = 0; i < n_; ++i) {
            const B raw = B::load_unaligned(data[i] + c);
            keep_[i] = raw == raw;  // NaN is never used
            if (mask[i]) keep_[i] = keep_[i] && unmasked(mask[i] + c);
            const M none(false);
            if (o.min_value) reject(i, raw < min_value, none, low_count, high_count);
            if (o.max_value) reject(i, none, raw > max_value, low_count, high_count);
            v_[i] = raw * B(p_.scale[i]);
        }
        if (o.nlow + o.nhigh > 0) clip_extrema(low_count, high_count);
        if (o.sigma_clip) clip_sigma(low_count, high_count);

        const B n = kept_count();
        B value, spread;
        if (o.method == combine_method::median) {
            value = kept_median(v_, n);
            if (!p_.propagate) {
                for (std::size_t i = 0; i < n_; ++i) w_[i] = xsimd::abs(v_[i] - value);
                spread = B(static_cast<T>(mad_to_std)) * kept_median(w_, n) / xsimd::sqrt(n);
            }
        } else {
            B sum(0), weights(0);
            for (std::size_t i = 0; i < n_; ++i) {
                B w(p_.weight[i]);
                if (wmap[i]) w *= load_converted(wmap[i] + c);
                sum += xsimd::select(keep_[i], w * v_[i], B(0));
                weights += xsimd::select(keep_[i], w, B(0));
            }
            if (o.method == combine_method::average)
                value = p_.weighted ? sum / weights : sum / n;
            else
                value = sum;  // 0 where nothing is kept, as ccdproc
            if (!p_.propagate) {
                spread = kept_std(v_, n) / xsimd::sqrt(n);
                if (o.method == combine_method::sum) spread *= n;
            }
        }
        if (p_.propagate) {
            // Variance of the weighted mean/sum of independent values: sum (w s sigma)^2.
            B var(0), weights(0);
            for (std::size_t i = 0; i < n_; ++i) {
                B w = o.method == combine_method::median ? B(1) : B(p_.weight[i]);
                if (wmap[i] && o.method != combine_method::median) w *= load_converted(wmap[i] + c);
                const B s = B::load_unaligned(sigma[i] + c) * B(p_.scale[i]) * w;
                var += xsimd::select(keep_[i], s * s, B(0));
                weights += xsimd::select(keep_[i], w, B(0));
            }
            spread = xsimd::sqrt(var);
            if (o.method == combine_method::average) spread /= weights;
            if (o.method == combine_method::median)
                spread *= B(static_cast<T>(std::sqrt(std::acos(-1.0) / 2))) / weights;
            spread = xsimd::select(n > B(0), spread, B(std::numeric_limits<T>::quiet_NaN()));
        }

        value.store_unaligned(out.out + oc);
        spread.store_unaligned(out.out_sigma + oc);
        alignas(64) T nn[W], lc[W], hc[W];
        n.store_aligned(nn);
        low_count.store_aligned(lc);
        high_count.store_aligned(hc);
        for (std::size_t l = 0; l < W; ++l) {
            out.out_mask[oc + l] = nn[l] == T(0) ? all_rejected : mask_t(0);
            if (out.count) out.count[oc + l] = static_cast<std::uint16_t>(nn[l]);
            if (out.low) out.low[oc + l] = static_cast<std::uint16_t>(lc[l]);
            if (out.high) out.high[oc + l] = static_cast<std::uint16_t>(hc[l]);
        }
    }

    // Unrolled networks for 1..max_static_network values, indexed by n - 1.
    using sorter = void (*)(B*);
    using pair_sorter = void (*)(B*, B*);
    template <bool MiddleOnly, std::size_t... I>
    static std::array<sorter, sizeof...(I)> sorters(std::index_sequence<I...>)
    {
        return {&sort_static<I + 1, MiddleOnly, B>...};
    }
    template <std::size_t N>
    static void sort_pairs(B* key, B* index)
    {
        sort_static_pairs<N>(
            key, index, [](const B& a, const B& b) { return a < b; },
            [](const M& c, const B& a, const B& b) { return xsimd::select(c, a, b); });
    }
    template <std::size_t... I>
    static std::array<pair_sorter, sizeof...(I)> pair_sorters(std::index_sequence<I...>)
    {
        return {&sort_pairs<I + 1>...};
    }

    const combine_plan<T>& p_;
    std::size_t n_;
    sorter sort_all_ = nullptr;
    sorter sort_middle_ = nullptr;
    pair_sorter sort_pairs_ = nullptr;
    std::vector<B> v_, s_, idx_, w_;
    std::vector<M> keep_;
    std::vector<T> pad_data_, pad_sigma_;
    std::vector<double> pad_weight_;
    std::vector<mask_t> pad_mask_;
    std::vector<const T*> ptr_data_, ptr_sigma_;
    std::vector<const double*> ptr_weight_;
    std::vector<const mask_t*> ptr_mask_;
};

CCDX_INTRINSICS_END

// --- checks and set-up shared by both entry points ----------------------------------------------

// How an input is named in messages: its file, or its name and position.
inline std::string stack_label(const std::vector<std::string>& names, std::size_t i)
{
    return names[i].empty() ? "image " + std::to_string(i) : "'" + names[i] + "'";
}

inline void check_options(const combine_options& o, std::size_t n)
{
    if (n == 0) throw value_error("combine: the list of images is empty");
    if (n > 65535) throw value_error("combine: at most 65535 images, got " + std::to_string(n));
    // Before any work: a result that could not be written is refused at once.
    if (!o.output.empty() && !o.write.overwrite && std::filesystem::exists(o.output))
        throw fits_error("combine: output file '" + o.output.string() + "' exists; set write.overwrite to replace it");
    if (!o.scale.empty() && o.scale.size() != n)
        throw value_error("combine: " + std::to_string(o.scale.size()) + " scale factors for " + std::to_string(n) +
                          " images");
    if (!o.scale.empty() && o.scale_function)
        throw value_error("combine: give scale factors or a scale function, not both");
    if (!o.weights.empty() && o.weights.size() != n)
        throw value_error("combine: " + std::to_string(o.weights.size()) + " weights for " + std::to_string(n) +
                          " images");
    if (!o.weight_maps.empty() && o.weight_maps.size() != n)
        throw value_error("combine: " + std::to_string(o.weight_maps.size()) + " weight maps for " +
                          std::to_string(n) + " images");
    if ((!o.weights.empty() || !o.weight_maps.empty()) && o.method == combine_method::median)
        throw value_error("combine: weights apply to the average and the sum, not the median");
    if (o.sigma_clip) {
        const auto& c = *o.sigma_clip;
        if (!(c.low > 0) || !(c.high > 0))
            throw value_error("combine: sigma clipping thresholds must be positive (low " + std::to_string(c.low) +
                              ", high " + std::to_string(c.high) + ")");
        if (c.deviation == clip_deviation::noise_model && !(c.noise.gain > 0))
            throw value_error("combine: the noise model's gain must be positive, got " + std::to_string(c.noise.gain));
    }
}

// Every input must have the first one's shape and unit; the message names both inputs.
inline void check_same(const std::vector<std::string>& names, const std::vector<shape2>& shapes,
                       const std::vector<unit>& units)
{
    for (std::size_t i = 1; i < shapes.size(); ++i) {
        if (shapes[i] != shapes[0])
            throw shape_error("combine: " + stack_label(names, i) + " has shape " + to_string(shapes[i]) + " but " +
                              stack_label(names, 0) + " has shape " + to_string(shapes[0]));
        if (units[i] != units[0])
            throw unit_error("combine: " + stack_label(names, i) + " is in '" + units[i].to_string() + "' but " +
                             stack_label(names, 0) + " is in '" + units[0].to_string() + "'");
    }
}

inline void check_weight_maps(const combine_options& o, shape2 shape)
{
    for (std::size_t i = 0; i < o.weight_maps.size(); ++i) {
        const auto& s = o.weight_maps[i].shape();
        if (s[0] != shape[0] || s[1] != shape[1])
            throw shape_error("combine: weight map " + std::to_string(i) + " has shape " +
                              to_string(shape2{s[0], s[1]}) + " but the images have shape " + to_string(shape));
    }
}

// The combined image's header: the first input's, with NCOMBINE and, as IRAF writes them,
// IMCMBnnn naming each input.
inline header combined_header(header h, const std::vector<std::string>& names)
{
    h.set("NCOMBINE", static_cast<std::int64_t>(names.size()), "number of images combined");
    if (names.size() <= 999)
        for (std::size_t i = 0; i < names.size(); ++i) {
            if (names[i].empty()) continue;
            std::string key = std::to_string(i + 1);
            key = "IMCMB" + std::string(3 - key.size(), '0') + key;
            h.set(key, names[i], "combined image");
        }
    return h;
}

template <class T>
struct combine_output {
    image<T> result;
    combine_maps* maps;

    // Left uninitialised: the kernel writes every pixel of every plane, and huge pages (as the
    // FITS reader asks for its planes) spare a page fault per 4 KiB on that first touch.
    combine_output(shape2 shape, const unit& u, combine_maps* m)
        : result(fresh<T>(shape), u), maps(m)
    {
        result.set_uncertainty(fresh<T>(shape));
        result.set_mask(fresh<mask_t>(shape));
        if (maps)
            for (auto* plane : {&maps->count, &maps->rejected_low, &maps->rejected_high})
                *plane = fresh<std::uint16_t>(shape);
    }

    template <class P>
    static xt::xtensor<P, 2> fresh(shape2 shape)
    {
        auto plane = xt::xtensor<P, 2>::from_shape({shape[0], shape[1]});
        prefer_huge_pages(plane.data(), plane.size() * sizeof(P));
        return plane;
    }

    // Output pointers of row r.
    void point(stack_row<T>& row, std::size_t r)
    {
        const std::size_t off = r * result.cols();
        row.out = result.data().data() + off;
        row.out_sigma = result.uncertainty().data() + off;
        row.out_mask = result.mask().data() + off;
        if (maps) {
            row.count = maps->count.data() + off;
            row.low = maps->rejected_low.data() + off;
            row.high = maps->rejected_high.data() + off;
        }
    }
};

// Rows [row_begin, row_end) of the output, from a band of input rows. `input(i, r)` gives
// image i's row r as (data, mask, sigma) pointers. Rows are split across `threads` threads
// (0: as options.threads says).
template <class T, class Input>
void combine_rows(const combine_plan<T>& plan, combine_output<T>& out, std::size_t row_begin, std::size_t row_end,
                  const Input& input, int threads = 0)
{
    const std::size_t cols = out.result.cols();
    const combine_options& o = *plan.options;
#ifdef CCDX_USE_OPENMP
    if (threads <= 0) threads = detail::thread_count(o.threads);
#pragma omp parallel num_threads(threads)
#else
    (void)threads;
#endif
    {
        stack_kernel<T> kernel(plan);
        stack_row<T> row;
        row.data.resize(plan.n);
        row.mask.resize(plan.n);
        row.sigma.resize(plan.n);
        row.weight.resize(plan.n);
        const auto first = static_cast<std::ptrdiff_t>(row_begin);
        const auto last = static_cast<std::ptrdiff_t>(row_end);
#ifdef CCDX_USE_OPENMP
#pragma omp for schedule(static)
#endif
        for (std::ptrdiff_t r = first; r < last; ++r) {
            const auto ur = static_cast<std::size_t>(r);
            for (std::size_t i = 0; i < plan.n; ++i) {
                input(i, ur, row.data[i], row.mask[i], row.sigma[i]);
                row.weight[i] = o.weight_maps.empty() ? nullptr : o.weight_maps[i].data() + ur * cols;
            }
            out.point(row, ur);
            kernel.row(row, cols);
        }
    }
}

template <class T>
std::vector<double> checked_factors(std::vector<double> f, const std::vector<std::string>& names)
{
    for (std::size_t i = 0; i < f.size(); ++i)
        if (!std::isfinite(f[i]))
            throw value_error("combine: the scale factor of " + stack_label(names, i) + " is " + std::to_string(f[i]));
    return f;
}

}  // namespace detail

// Combines images of equal shape and unit held in memory. The result carries the combined
// values, their uncertainty, a mask (1, mask_bits::bad, where every value was rejected) and the
// first image's header with NCOMBINE (and IMCMBnnn for named images).
template <class T>
image<T> combine(const std::vector<image<T>>& images, const combine_options& options = {},
                 combine_maps* maps = nullptr)
{
    detail::check_options(options, images.size());
    std::vector<std::string> names;
    std::vector<shape2> shapes;
    std::vector<unit> units;
    for (const auto& img : images) {
        names.push_back(img.name());
        shapes.push_back(img.shape());
        units.push_back(img.unit());
    }
    detail::check_same(names, shapes, units);
    detail::check_weight_maps(options, shapes[0]);
    if (options.uncertainty == combined_uncertainty::propagated)
        for (std::size_t i = 0; i < images.size(); ++i)
            if (!images[i].has_uncertainty())
                throw value_error("combine: propagating uncertainties, but " + detail::stack_label(names, i) +
                                  " has none");

    std::vector<double> factors = options.scale;
    if (options.scale_function)
        for (const auto& img : images) {
            if constexpr (std::is_same_v<T, double>) {
                factors.push_back(options.scale_function(img));
            } else {
                image<double> copy(xt::xtensor<double, 2>(xt::cast<double>(img.data())), img.unit());
                if (img.has_mask()) copy.set_mask(img.mask());
                factors.push_back(options.scale_function(copy));
            }
        }
    const detail::combine_plan<T> plan(options, images.size(), detail::checked_factors<T>(factors, names));

    detail::combine_output<T> out(shapes[0], units[0], maps);
    const std::size_t cols = shapes[0][1];
    const bool propagate = plan.propagate;
    detail::combine_rows(plan, out, 0, shapes[0][0],
                         [&](std::size_t i, std::size_t r, const T*& d, const mask_t*& m, const T*& s) {
                             const image<T>& img = images[i];
                             d = img.data().data() + r * cols;
                             m = img.has_mask() ? img.mask().data() + r * cols : nullptr;
                             s = propagate ? img.uncertainty().data() + r * cols : nullptr;
                         });
    out.result.header() = detail::combined_header(images[0].header(), names);
    out.result.set_name("combined");
    if (!options.output.empty()) write_fits(out.result, options.output, options.write);
    return std::move(out.result);
}

}  // namespace ccdx
