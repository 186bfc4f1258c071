#pragma once
// subtract_overscan: the bias level read from the overscan strip, line by line, subtracted as
// a profile (one value per row, or per column), optionally smoothed by a polynomial fit.
//
//     ccdx::image<float> out = ccdx::subtract_overscan(raw, "[2049:2080,*]", {.median = true});
//
// The profile is computed here, once (it reads only the strip); the subtraction is a lazy
// expression like every other step. As in ccdproc, the overscan's uncertainty and mask are
// not used and the result's are the ccd's; the image is not trimmed (the strip ends up near 0).
// Lines statistics skip NaN (the reference's one NaN makes that line's level NaN), and a fit
// leaves out lines whose level is not finite.

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "ccdx/core/section.hpp"
#include "ccdx/core/statistics.hpp"
#include "ccdx/expr/detail/steps.hpp"
#include "ccdx/expr/expression.hpp"
#include "ccdx/reduce/detail/polyfit.hpp"

namespace ccdx {

struct overscan_options {
    // 1: one level per row, from the strip's columns (the default, as ccdproc's);
    // 0: one level per column, from the strip's rows; nullopt: along the strip's long side.
    std::optional<int> axis = 1;
    bool median = false;                // each line's median instead of its mean
    std::optional<unsigned> fit_degree;  // smooth the levels by a least-squares polynomial in the line index
};

namespace detail {

inline int overscan_axis(const overscan_options& o, const shape2& strip)
{
    const int axis = o.axis ? *o.axis : (strip[1] > strip[0] ? 0 : 1);
    if (axis != 0 && axis != 1)
        throw value_error("subtract_overscan: axis must be 0 (a level per column) or 1 (a level per row), got " +
                          std::to_string(axis));
    return axis;
}

// The per-line levels of the strip window `s` of `data` (row-major, `stride` per row).
template <class U>
std::vector<double> overscan_levels(const U* data, std::size_t stride, const section& s, int axis, bool median)
{
    auto level = [median](auto first, auto last) { return median ? ccdx::median(first, last) : ccdx::mean(first, last); };
    std::vector<double> out;
    if (axis == 1) {
        for (std::size_t r = s.rows.begin; r < s.rows.end; ++r) {
            const U* row = data + r * stride;
            out.push_back(level(row + s.cols.begin, row + s.cols.end));
        }
    } else {
        std::vector<double> column(s.rows.size());
        for (std::size_t c = s.cols.begin; c < s.cols.end; ++c) {
            for (std::size_t r = s.rows.begin; r < s.rows.end; ++r) column[r - s.rows.begin] = data[r * stride + c];
            out.push_back(level(column.begin(), column.end()));
        }
    }
    return out;
}

// The profile to subtract from an image of `shape`, per row (axis 1) or per column (axis 0).
template <class U, class Levels>
std::vector<U> overscan_profile(Levels levels, const overscan_options& o, int axis, const shape2& shape,
                                const std::string& what)
{
    const std::size_t expected = axis == 1 ? shape[0] : shape[1];
    if (levels.size() != expected)
        throw shape_error("subtract_overscan: the overscan " + what + " gives " + std::to_string(levels.size()) +
                          (axis == 1 ? " row" : " column") + " levels for an image of shape " + to_string(shape));
    if (o.fit_degree) levels = polynomial_fit(levels, *o.fit_degree);
    return std::vector<U>(levels.begin(), levels.end());
}

inline std::string overscan_record(const std::string& source, int axis, const overscan_options& o)
{
    return "ccd=<CCDData>, " + source + ", overscan_axis=" + std::to_string(axis) + ", median=" + (o.median ? "True" : "False") +
           ", model=" + (o.fit_degree ? "<Polynomial1D(" + std::to_string(*o.fit_degree) + ")>" : std::string("None"));
}

// ccd - profile, as a row or a column profile; `on` false leaves ccd as it is.
template <class C, class U>
auto subtract_levels(C c, std::vector<U> profile, int axis, bool on)
{
    // One leaf type for both axes: a column profile is applied through the transposed
    // broadcast of a row profile only when the axis says so.
    auto rows = row_profile<U>(axis == 1 ? profile : std::vector<U>{}, c.unit(), "overscan");
    auto cols = column_profile<U>(axis == 0 ? std::move(profile) : std::vector<U>{}, c.unit(), "overscan");
    auto by_row = optional_operation<ops::minus>(std::move(c), std::move(rows), on && axis == 1);
    return optional_operation<ops::minus>(std::move(by_row), std::move(cols), on && axis == 0);
}

}  // namespace detail

// Overscan strip given as a FITS section of the ccd itself (1-based, inclusive, x first).
// An image passed as a temporary is moved into the expression.
template <class I, class = std::enable_if_t<detail::is_image<std::decay_t<I>>::value>>
auto subtract_overscan(I&& ccd, std::string_view fits_section, const overscan_options& options = {})
{
    using U = typename std::decay_t<I>::value_type;
    const section s = parse_section(fits_section, ccd.rows(), ccd.cols());
    const int axis = detail::overscan_axis(options, {s.rows.size(), s.cols.size()});
    auto profile = detail::overscan_profile<U>(detail::overscan_levels(ccd.data().data(), ccd.cols(), s, axis, options.median),
                                               options, axis, ccd.shape(), "section " + to_string(s));
    return detail::logged(detail::subtract_levels(detail::as_node(std::forward<I>(ccd)), std::move(profile), axis, true),
                          "subtract_overscan",
                          detail::overscan_record("fits_section=" + std::string(fits_section), axis, options));
}

// Overscan strip given as an image of its own (rows matching the ccd's for axis 1, columns
// for axis 0).
template <class I, class V, class = std::enable_if_t<detail::is_image<std::decay_t<I>>::value>>
auto subtract_overscan(I&& ccd, const image<V>& overscan, const overscan_options& options = {})
{
    using U = typename std::decay_t<I>::value_type;
    const section all{{0, overscan.rows()}, {0, overscan.cols()}};
    const int axis = detail::overscan_axis(options, overscan.shape());
    auto profile = detail::overscan_profile<U>(
        detail::overscan_levels(overscan.data().data(), overscan.cols(), all, axis, options.median), options, axis,
        ccd.shape(), "'" + detail::operand_text(overscan) + "' of shape " + to_string(overscan.shape()));
    return detail::logged(detail::subtract_levels(detail::as_node(std::forward<I>(ccd)), std::move(profile), axis, true),
                          "subtract_overscan", detail::overscan_record("overscan=<CCDData>", axis, options));
}

}  // namespace ccdx
