#pragma once
// The calibration steps: subtract_bias, subtract_dark, flat_correct, gain_correct. Each takes
// images or expressions and returns an expression, so that a chain of them runs as one pass:
//
//     ccdx::image<float> reduced = flat_correct(subtract_dark(subtract_bias(raw, bias), dark,
//                                                             {.exposure_keyword = "EXPTIME", ...}), flat);
//
// Images are referenced, not copied: they must outlive the expression. Each result's header
// is the science frame's, plus the cards ccdproc adds for the step, as it writes them
// (SUBTRACT_BIAS = 'subbias' and SUBBIAS = 'ccd=<CCDData>, master=<CCDData>'); add_keyword
// replaces them (add_keyword(subtract_bias(raw, bias), no_keywords)).
//
// Deliberate differences from ccdproc 2.4 (its behaviour is a bug there):
// - flat_correct's mean leaves out non-finite pixels (the reference's one NaN pixel turns the
//   whole result into NaN, its issue #800); masked pixels still count, as they do there.
// - subtract_dark without scaling needs no exposure times (the reference demands them anyway).

#include <cmath>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "ccdx/expr/detail/steps.hpp"
#include "ccdx/expr/expression.hpp"

namespace ccdx {

// A quantity read from a header keyword in a given unit (ccdproc's Keyword):
// gain_correct(raw, from_header{"GAIN", unit("electron / adu")}).
struct from_header {
    std::string keyword;
    ccdx::unit unit;

    quantity in(const header& h, std::string_view image_name = "image") const
    {
        const std::optional<double> v = h.get<double>(keyword);
        if (!v)
            throw keyword_error("keyword '" + keyword + "' not found in the header of '" + std::string(image_name) + "'");
        return {*v, unit};
    }
};

namespace detail {


template <class N>
const header& header_of(const N& node, const char* step)
{
    if (const header* h = node.first_header()) return *h;
    throw keyword_error(std::string(step) + ": '" + node.to_string() + "' has no header to read keywords from");
}

// `node` expressed in `target`: unchanged when the units are equal, scaled when they convert
// (adu s / min into adu), unit_error otherwise. With `scale` != 1 the node is multiplied by it
// too (a dark scaled to the exposure time).
template <class N>
auto scaled_into(N node, const ccdx::unit& target, double scale, const std::string& mismatch)
{
    double factor = scale;
    if (node.unit() != target) {
        if (!node.unit().convertible_to(target)) throw unit_error(mismatch);
        factor *= node.unit().to(target);
    }
    return scaled<N>(std::move(node), factor, target);
}

template <class C, class M>
auto bias_step(C c, M m, bool on)
{
    const ccdx::unit target = on ? c.unit() : m.unit();
    const std::string mismatch = "subtract_bias: master '" + m.to_string() + "' is in '" + to_string(m.unit()) +
                                 "', which does not convert to '" + to_string(c.unit()) + "' of '" + c.to_string() + "'";
    auto master = scaled_into(std::move(m), target, 1.0, mismatch);
    return optional_operation<ops::minus>(std::move(c), std::move(master), on);
}

// Mean of the flat with values below `floor` raised to it, over the finite pixels; in double.
template <class U>
double flat_mean(const image<U>& flat, double floor)
{
    double sum = 0;
    std::size_t n = 0;
    for (const U v : flat.data()) {
        if (!std::isfinite(v)) continue;
        sum += v < floor ? floor : static_cast<double>(v);
        ++n;
    }
    return n ? sum / static_cast<double>(n) : std::numeric_limits<double>::quiet_NaN();
}

// The flat normalised by its mean (or by norm_value), floored at min_value first.
template <class F>
auto normalised_flat(F&& flat, std::optional<double> min_value, std::optional<double> norm_value, bool on)
{
    using U = typename std::decay_t<F>::value_type;
    const double floor = min_value ? *min_value : -std::numeric_limits<double>::infinity();
    double norm = 1;
    if (on) {
        if (norm_value) {
            if (!(*norm_value > 0))
                throw value_error("flat_correct: norm_value must be greater than zero, got " +
                                  number_text(*norm_value));
            norm = *norm_value;
        } else {
            norm = flat_mean(flat, floor);
            if (!std::isfinite(norm) || norm == 0)
                throw value_error("flat_correct: flat '" + operand_text(flat) + "' has mean " + number_text(norm) +
                                  " over its finite pixels; it cannot be normalised");
        }
    }
    const quantity by(norm, flat.unit());
    return scaled<floored<image_leaf<U>>>::divided(floored<image_leaf<U>>(as_node(std::forward<F>(flat)), floor), by);
}

}  // namespace detail

// ccd - master, in ccd's unit (a master in a convertible unit is converted).
template <class C, class M, class = std::enable_if_t<detail::is_array_v<C> && detail::is_array_v<M>>>
auto subtract_bias(C&& ccd, M&& master)
{
    auto e = detail::bias_step(detail::as_node(std::forward<C>(ccd)), detail::as_node(std::forward<M>(master)), true);
    return detail::logged(std::move(e), "subtract_bias", "ccd=<CCDData>, master=<CCDData>");
}

// How subtract_dark learns the exposure times: given explicitly, or both read from a header
// keyword (of the science frame and of the dark) in exposure_unit.
struct dark_options {
    std::optional<quantity> dark_exposure;
    std::optional<quantity> data_exposure;
    std::string exposure_keyword;
    std::optional<ccdx::unit> exposure_unit;
    bool scale = false;  // scale the dark (and its uncertainty) by data / dark exposure time
};

namespace detail {

struct dark_plan {
    double scale = 1;
    std::string record;  // the arguments, for SUBDARK
};

template <class C, class M>
dark_plan plan_dark(const C& c, const M& m, const dark_options& o)
{
    const bool explicit_times = o.dark_exposure || o.data_exposure;
    const bool keyword = !o.exposure_keyword.empty();
    if (explicit_times && keyword)
        throw value_error("subtract_dark: give either exposure_keyword or dark_exposure and data_exposure, not both");
    if (explicit_times && !(o.dark_exposure && o.data_exposure))
        throw value_error(std::string("subtract_dark: ") + (o.dark_exposure ? "dark_exposure" : "data_exposure") +
                          " given without " + (o.dark_exposure ? "data_exposure" : "dark_exposure"));
    if (!explicit_times && !keyword && o.scale)
        throw value_error("subtract_dark: scaling the dark needs the exposure times: give exposure_keyword and "
                          "exposure_unit, or dark_exposure and data_exposure");
    if (keyword && !o.exposure_unit)
        throw unit_error("subtract_dark: exposure_keyword '" + o.exposure_keyword +
                         "' needs exposure_unit, the unit of its values");

    dark_plan plan;
    std::optional<quantity> data_t = o.data_exposure, dark_t = o.dark_exposure;
    if (keyword) {
        data_t = from_header{o.exposure_keyword, *o.exposure_unit}.in(header_of(c, "subtract_dark"), c.to_string());
        dark_t = from_header{o.exposure_keyword, *o.exposure_unit}.in(header_of(m, "subtract_dark"), m.to_string());
        plan.record = ", exposure_time=" + o.exposure_keyword + ", exposure_unit=" + to_string(*o.exposure_unit);
    } else if (explicit_times) {
        plan.record = ", dark_exposure=" + logged_text(*dark_t) + ", data_exposure=" + logged_text(*data_t);
    }
    if (o.scale) plan.record += ", scale=True";
    if (o.scale) {
        if (!data_t->unit.convertible_to(dark_t->unit))
            throw unit_error("subtract_dark: data exposure " + to_string(*data_t) +
                             " does not convert to the unit of the dark exposure " + to_string(*dark_t));
        if (dark_t->value == 0)
            throw value_error("subtract_dark: the dark exposure time of '" + m.to_string() + "' is 0; cannot scale");
        plan.scale = data_t->to(dark_t->unit).value / dark_t->value;
    }
    return plan;
}

template <class C, class M>
auto dark_step(C c, M m, const dark_options& o, bool on)
{
    const dark_plan plan = on ? plan_dark(c, m, o) : dark_plan{};
    const ccdx::unit target = on ? c.unit() : m.unit();
    const std::string mismatch = "subtract_dark: unit '" + to_string(c.unit()) + "' of the uncalibrated image '" +
                                 c.to_string() + "' does not match unit '" + to_string(m.unit()) +
                                 "' of the calibration image '" + m.to_string() + "'";
    auto dark = scaled_into(std::move(m), target, plan.scale, mismatch);
    return std::make_pair(optional_operation<ops::minus>(std::move(c), std::move(dark), on), plan.record);
}

}  // namespace detail

// ccd - master, the master scaled by the ratio of exposure times when options.scale.
// Errors as ccdproc's: both ways of giving the times, only one explicit time, a missing
// keyword, a keyword without a unit, units that do not match.
template <class C, class M, class = std::enable_if_t<detail::is_array_v<C> && detail::is_array_v<M>>>
auto subtract_dark(C&& ccd, M&& master, const dark_options& options = {})
{
    auto [e, record] =
        detail::dark_step(detail::as_node(std::forward<C>(ccd)), detail::as_node(std::forward<M>(master)), options, true);
    return detail::logged(std::move(e), "subtract_dark", "ccd=<CCDData>, master=<CCDData>" + record);
}

// ccd / (flat / mean(flat)): the flat normalised by the mean of its (finite) pixels, computed
// once here, or by norm_value (> 0); flat values below min_value are raised to it first. The
// flat's unit cancels; its uncertainty propagates.
template <class C, class F,
          class = std::enable_if_t<detail::is_array_v<C> && detail::is_image<std::decay_t<F>>::value>>
auto flat_correct(C&& ccd, F&& flat, std::optional<double> min_value = {}, std::optional<double> norm_value = {})
{
    std::string record = "ccd=<CCDData>, flat=<CCDData>";
    if (min_value) record += ", min_value=" + detail::logged_text(*min_value);
    if (norm_value) record += ", norm_value=" + detail::logged_text(*norm_value);
    return detail::logged(std::forward<C>(ccd) / detail::normalised_flat(std::forward<F>(flat), min_value, norm_value, true),
                          "flat_correct", std::move(record));
}

// ccd * gain: data and uncertainty scale, the unit multiplies (adu * electron/adu = electron).
// A dimensionless gain leaves the unit as it is.
template <class C, class = std::enable_if_t<detail::is_array_v<C>>>
auto gain_correct(C&& ccd, const quantity& gain)
{
    return detail::logged(std::forward<C>(ccd) * gain, "gain_correct", "ccd=<CCDData>, gain=" + detail::logged_text(gain));
}

// The gain read from the ccd's header.
template <class C, class = std::enable_if_t<detail::is_array_v<C>>>
auto gain_correct(C&& ccd, const from_header& gain)
{
    auto c = detail::as_node(std::forward<C>(ccd));
    const quantity g = gain.in(detail::header_of(c, "gain_correct"), c.to_string());
    return gain_correct(std::move(c), g);
}

}  // namespace ccdx
