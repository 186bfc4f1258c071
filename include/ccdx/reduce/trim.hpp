#pragma once
// trim_image: a rectangular part of an image or expression, as a view (no copy).
//
//     ccdx::image<float> science = ccdx::trim_image(raw, "[1:2048,1:4096]");
//
// The header follows the pixels: CRPIX1/CRPIX2 and IRAF's LTV1/LTV2 shift by the offset of
// the section (as ccdproc's WCS slicing does), and the pixel sections DATASEC, TRIMSEC and
// BIASSEC are re-expressed in the trimmed frame, clipped to it, or removed when nothing of
// them is left (an overscan trimmed away). A section keyword that does not fit the untrimmed
// frame (one written for a larger original, say) is left as it was. TRIMIM records the step.
//
// Unlike the reference, a section reaching outside the image is an error, not silently clipped.

#include <algorithm>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "ccdx/core/section.hpp"
#include "ccdx/expr/detail/steps.hpp"
#include "ccdx/expr/expression.hpp"

namespace ccdx {
namespace detail {

// The header of a frame of `full` shape, trimmed to `s`.
inline void trim_header(header& h, const section& s, const shape2& full)
{
    auto shift = [&h](const char* key, std::size_t by) {
        if (by == 0) return;
        if (const std::optional<double> v = h.get<double>(key)) h.set(key, *v - static_cast<double>(by));
    };
    shift("CRPIX1", s.cols.begin);
    shift("CRPIX2", s.rows.begin);
    shift("LTV1", s.cols.begin);
    shift("LTV2", s.rows.begin);

    for (const char* key : {"DATASEC", "TRIMSEC", "BIASSEC"}) {
        section old;
        try {
            const std::optional<std::string> text = h.get<std::string>(key);
            if (!text) continue;
            old = parse_section(*text, full[0], full[1]);
        } catch (const error&) {
            continue;  // not a section of this frame: leave it to whoever wrote it
        }
        if (old.rows.reversed || old.cols.reversed) continue;
        auto clip = [](const axis_range& a, const axis_range& to) {
            const std::size_t b = std::max(a.begin, to.begin), e = std::min(a.end, to.end);
            return b < e ? axis_range{b - to.begin, e - to.begin} : axis_range{0, 0};
        };
        const section now{clip(old.rows, s.rows), clip(old.cols, s.cols)};
        if (now.rows.size() == 0 || now.cols.size() == 0)
            h.erase(key);
        else
            h.set(key, to_string(now));
    }
}

template <class N>
auto trimmed(N node, const section& s)
{
    if (s.rows.reversed || s.cols.reversed)
        throw section_error("trim_image: reversed section " + to_string(s) + "; use view() to flip an image");
    const shape2 full = node.shape();
    auto window = view(std::move(node), s);
    return header_edit<decltype(window)>(std::move(window), [s, full](header& h) { trim_header(h, s, full); });
}

}  // namespace detail

namespace detail {

template <class C>
auto logged_trim(C&& ccd, const section& s, std::string record)
{
    return logged(trimmed(as_node(std::forward<C>(ccd)), s), "trim_image", std::move(record));
}

}  // namespace detail

// The part of ccd inside `s` (0-based ranges, as ccdproc's slicing, which its record leaves out).
template <class C, class = std::enable_if_t<detail::is_array_v<C>>>
auto trim_image(C&& ccd, const section& s)
{
    return detail::logged_trim(std::forward<C>(ccd), s, "ccd=<CCDData>");
}

// The part of ccd inside a FITS section such as "[1:2048, *]" (1-based, inclusive, x first).
template <class C, class = std::enable_if_t<detail::is_array_v<C>>>
auto trim_image(C&& ccd, std::string_view fits_section)
{
    auto node = detail::as_node(std::forward<C>(ccd));
    const shape2 shape = node.shape();
    const section s = parse_section(fits_section, shape[0], shape[1]);
    return detail::logged_trim(std::move(node), s, "ccd=<CCDData>, fits_section=" + std::string(fits_section));
}

}  // namespace ccdx
