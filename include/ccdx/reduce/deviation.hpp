#pragma once
// create_deviation: the uncertainty a raw frame should carry, from Poisson noise on the
// signal and the detector's read noise, as ccdproc computes it:
//
//     sigma = sqrt(max(gain * data, 0) + readnoise^2) / gain      (in the data's unit)
//
// A negative gain * data gives NaN (the reference's default), or counts as 0 with
// disregard_nan, so that the pixel's sigma is readnoise / gain. A NaN pixel stays NaN either
// way. It replaces any uncertainty the ccd had; values, mask and header pass through.
// Lazy like every step: in a chain it costs no extra pass.

#include <cstddef>
#include <string>
#include <utility>

#include "ccdx/expr/detail/steps.hpp"

namespace ccdx {

// The ccd with uncertainty from gain (electron/adu, say: data * gain is in readnoise's unit)
// and read noise.
template <class C, class = std::enable_if_t<detail::is_array_v<C>>>
auto create_deviation(C&& ccd, const quantity& gain, const quantity& readnoise, bool disregard_nan = false)
{
    std::string record =
        "ccd_data=<CCDData>, gain=" + detail::logged_text(gain) + ", readnoise=" + detail::logged_text(readnoise);
    if (disregard_nan) record += ", disregard_nan=True";
    auto e = detail::deviation_node<detail::node_t<C>>(detail::as_node(std::forward<C>(ccd)), gain, readnoise,
                                                        disregard_nan, true);
    return detail::logged(std::move(e), "create_deviation", std::move(record));
}

// Without a gain: the data is already in readnoise's unit (electrons, say).
template <class C, class = std::enable_if_t<detail::is_array_v<C>>>
auto create_deviation(C&& ccd, const quantity& readnoise, bool disregard_nan = false)
{
    std::string record = "ccd_data=<CCDData>, readnoise=" + detail::logged_text(readnoise);
    if (disregard_nan) record += ", disregard_nan=True";
    auto e = detail::deviation_node<detail::node_t<C>>(detail::as_node(std::forward<C>(ccd)), quantity(1.0), readnoise,
                                                        disregard_nan, true);
    return detail::logged(std::move(e), "create_deviation", std::move(record));
}

}  // namespace ccdx
