#pragma once
// ccd_process: a raw frame through overscan, trim, deviation, bad-pixel mask, gain, bias, dark
// and flat, in ccdproc's order and with its meaning of gain_corrected, as ONE expression:
// after the small eager parts (the overscan levels, the flat's mean) the whole reduction runs
// in a single pass over the pixels when the result is evaluated.
//
//     ccdx::process_options<float> o;
//     o.master_bias = &bias;  o.dark_frame = &dark;  o.master_flat = &flat;
//     o.dark.exposure_keyword = "EXPTIME";  o.dark.exposure_unit = ccdx::unit("s");  o.dark.scale = true;
//     o.gain = ccdx::quantity(1.5, ccdx::unit("electron / adu"));
//     ccdx::image<float> reduced = ccdx::ccd_process(raw, o);
//
// The frames given by pointer must outlive the expression. The result's header is raw's with
// each step's cards (SUBOSCAN, TRIMIM, CREATVAR, GAINCOR, SUBBIAS, SUBDARK, FLATCOR, each after
// its function's name holding that short name) and CCDPROC last, as the reference writes them,
// and a HISTORY card with the formula evaluated.
//
// Deliberate difference: the bad-pixel mask is OR'd into the raw frame's mask, which the
// reference replaces (losing, say, saturation flags set when the frame was read).

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "ccdx/core/section.hpp"
#include "ccdx/expr/detail/steps.hpp"
#include "ccdx/expr/expression.hpp"
#include "ccdx/reduce/calibrate.hpp"
#include "ccdx/reduce/deviation.hpp"
#include "ccdx/reduce/overscan.hpp"
#include "ccdx/reduce/trim.hpp"

namespace ccdx {

template <class T = float>
struct process_options {
    std::string oscan;                         // FITS section of the overscan strip ("" = no overscan step)
    bool oscan_median = true;                  // median of each row of the strip (false: mean)
    std::optional<unsigned> oscan_fit_degree;  // smooth the row levels by a polynomial of this degree
    std::string trim;                          // FITS section to keep ("" = no trim)
    bool error = false;                        // uncertainty from gain and readnoise (create_deviation)
    std::optional<quantity> gain;              // e.g. 1.5 electron / adu
    std::optional<quantity> readnoise;         // e.g. 10 electron
    const xt::xtensor<mask_t, 2>* bad_pixel_mask = nullptr;  // nonzero = bad, of the trimmed shape
    const image<T>* master_bias = nullptr;
    const image<T>* dark_frame = nullptr;
    const image<T>* master_flat = nullptr;
    std::optional<double> min_value;  // flat values below it are raised to it before normalising
    dark_options dark;                // exposure times and scaling of the dark
    // True: the masters are already in the gain-corrected unit, so the gain is applied before
    // the bias; false: they are in the raw unit and the gain comes last.
    bool gain_corrected = true;
    bool history = true;  // record the formula as a HISTORY card
    // ccdproc's add_keyword: these cards in place of the CCDPROC record (none: no record); the
    // steps' own records stay, as they do there.
    std::optional<std::vector<card>> add_keyword;
};

// The reduction of `raw` as one lazy expression; assign it to an image to run it.
template <class T>
auto ccd_process(const image<T>& raw, const process_options<T>& o)
{
    static const image<T> none;  // stands in for a frame that is not given (never read)
    const bool use_gain = o.gain.has_value();
    if (o.error && !(o.gain && o.readnoise))
        throw value_error("ccd_process: error=true needs both gain and readnoise to create the uncertainty");
    const quantity gain = o.gain.value_or(quantity(1.0));

    // Overscan levels from the full frame, then the trim applied to the frame and the levels alike.
    std::vector<T> levels;
    overscan_options oscan;
    oscan.median = o.oscan_median;
    oscan.fit_degree = o.oscan_fit_degree;
    if (!o.oscan.empty()) {
        const section s = parse_section(o.oscan, raw.rows(), raw.cols());
        levels = detail::overscan_profile<T>(detail::overscan_levels(raw.data().data(), raw.cols(), s, 1, oscan.median), oscan, 1,
                                     raw.shape(), "section " + to_string(s));
    }
    const section whole{{0, raw.rows()}, {0, raw.cols()}};
    const section kept = o.trim.empty() ? whole : parse_section(o.trim, raw.rows(), raw.cols());
    if (kept.rows.reversed || kept.cols.reversed)
        throw section_error("ccd_process: reversed trim section " + to_string(kept));
    if (!levels.empty())
        levels = std::vector<T>(levels.begin() + static_cast<std::ptrdiff_t>(kept.rows.begin),
                                levels.begin() + static_cast<std::ptrdiff_t>(kept.rows.end));

    image_leaf<T> frame = o.trim.empty() ? image_leaf<T>(raw) : image_leaf<T>(raw).window(kept);
    auto leveled = detail::optional_operation<ops::minus>(std::move(frame), row_profile<T>(std::move(levels), raw.unit(), "overscan"),
                                                          !o.oscan.empty());
    auto deviated = detail::deviation_node<decltype(leveled)>(std::move(leveled), gain, o.readnoise.value_or(quantity(0.0)),
                                                              false, o.error);
    auto masked = detail::with_mask_plane<decltype(deviated)>(std::move(deviated), o.bad_pixel_mask);
    const quantity one(1.0);
    auto gained = detail::scaled<decltype(masked)>(std::move(masked), use_gain && o.gain_corrected ? gain : one);
    auto debiased = detail::bias_step(std::move(gained), image_leaf<T>(o.master_bias ? *o.master_bias : none),
                                      o.master_bias != nullptr);
    auto [darkened, dark_record] = detail::dark_step(std::move(debiased), image_leaf<T>(o.dark_frame ? *o.dark_frame : none),
                                                     o.dark, o.dark_frame != nullptr);
    auto flattened = detail::optional_operation<ops::divides>(
        std::move(darkened),
        detail::normalised_flat(o.master_flat ? *o.master_flat : none, o.min_value, std::nullopt, o.master_flat != nullptr),
        o.master_flat != nullptr);
    auto reduced = detail::scaled<decltype(flattened)>(std::move(flattened), use_gain && !o.gain_corrected ? gain : one);

    // The records, in the reference's order, then the formula; written by the root node
    // (which, unlike the engine's relabeling, is always inlined into the pass).
    const std::string ccd = "ccd=<CCDData>";
    std::vector<card> cards;
    std::string call = ccd;
    auto record = [&cards](std::string_view step, std::string value) {
        for (card& c : detail::step_cards(step, std::move(value))) cards.push_back(std::move(c));
    };
    if (!o.oscan.empty()) {
        record("subtract_overscan", detail::overscan_record("fits_section=" + o.oscan, 1, oscan));
        call += ", oscan=" + o.oscan;
    }
    if (!o.trim.empty()) {
        record("trim_image", ccd + ", fits_section=" + o.trim);
        call += ", trim=" + o.trim;
    }
    const std::string gain_text = ", gain=" + detail::logged_text(gain);
    if (o.error) {
        record("create_deviation", "ccd_data=<CCDData>" + gain_text + ", readnoise=" + detail::logged_text(*o.readnoise));
        call += ", error=True";
    }
    if (use_gain) call += gain_text;
    if (o.readnoise) call += ", readnoise=" + detail::logged_text(*o.readnoise);
    if (use_gain && o.gain_corrected) record("gain_correct", ccd + gain_text);
    if (o.master_bias) {
        record("subtract_bias", ccd + ", master=<CCDData>");
        call += ", master_bias=<CCDData>";
    }
    if (o.dark_frame) {
        record("subtract_dark", ccd + ", master=<CCDData>" + dark_record);
        call += ", dark_frame=<CCDData>" + dark_record;
    }
    if (o.master_flat) {
        std::string flat = ccd + ", flat=<CCDData>";
        if (o.min_value) flat += ", min_value=" + detail::logged_text(*o.min_value);
        record("flat_correct", flat);
        call += ", master_flat=<CCDData>";
    }
    if (o.bad_pixel_mask) call += ", bad_pixel_mask=<ndarray>";
    if (use_gain && !o.gain_corrected) {
        record("gain_correct", ccd + gain_text);
        call += ", gain_corrected=False";
    }
    if (o.add_keyword)
        cards.insert(cards.end(), o.add_keyword->begin(), o.add_keyword->end());
    else
        record("ccd_process", call);
    if (o.history) cards.push_back(card{"HISTORY", reduced.to_string(), ""});

    const shape2 full = raw.shape();
    const bool trimmed = !o.trim.empty();
    return detail::header_edit<decltype(reduced)>(std::move(reduced), [cards, kept, full, trimmed](header& h) {
        for (const card& c : cards) {
            if (c.keyword == "HISTORY")
                h.add_history(std::get<std::string>(c.value));
            else
                h.set(c.keyword, c.value, c.comment);
        }
        if (trimmed) detail::trim_header(h, kept, full);
    });
}

}  // namespace ccdx
