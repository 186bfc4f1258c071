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
#include "ccdx/expr/expression.hpp"

namespace ccdx {
namespace detail {

// e's values and mask with the variance computed from its values (when `on`; otherwise e).
template <class E>
class deviation_node : public unary_base<E> {
public:
    static constexpr bool exact = false;
    static constexpr int precedence = detail::precedence::primary;

    deviation_node(E e, const quantity& gain, const quantity& readnoise, bool disregard_nan, bool on)
        : unary_base<E>(std::move(e)), gain_(gain), readnoise_(readnoise), disregard_nan_(disregard_nan), on_(on)
    {
        if (on_ && gain.unit * this->e_.unit() != readnoise.unit)
            throw unit_error("create_deviation: units of data ('" + ccdx::to_string(this->e_.unit()) + "'), gain ('" +
                             ccdx::to_string(gain.unit) + "') and readnoise ('" + ccdx::to_string(readnoise.unit) +
                             "') do not match: data * gain must be in the unit of readnoise");
    }

    const ccdx::unit& unit() const noexcept { return this->e_.unit(); }
    bool has_variance() const noexcept { return on_ || this->e_.has_variance(); }
    bool has_mask() const noexcept { return this->e_.has_mask(); }
    std::string to_string() const
    {
        if (!on_) return this->e_.to_string();
        return "create_deviation(" + this->e_.to_string() + ", " + ccdx::to_string(gain_) + ", " +
               ccdx::to_string(readnoise_) + ")";
    }

    template <bool V, bool M, class B>
    CCDX_FORCE_INLINE part<B> load(std::size_t r, std::size_t c) const noexcept
    {
        // The old variance is replaced, so it is not even loaded. One object is returned on
        // both paths, which keeps it in registers through a deep tree.
        part<B> p;
        if (on_) {
            p = this->e_.template load<false, M, B>(r, c);
            if constexpr (V) {
                using T = typename lanes<B>::value_type;
                const B g(static_cast<T>(gain_.value));
                const B electrons = p.value * g;
                const B floor = disregard_nan_ ? B(T(0)) : B(std::numeric_limits<T>::quiet_NaN());
                const B counted = select(electrons < B(T(0)), floor, electrons);
                const B rn2(static_cast<T>(readnoise_.value * readnoise_.value));
                const B inverse_g2(static_cast<T>(1.0 / (gain_.value * gain_.value)));  // a multiply, not a division, per batch
                p.variance = (counted + rn2) * inverse_g2;
            }
        } else {
            p = this->e_.template load<V, M, B>(r, c);
        }
        return p;
    }

private:
    quantity gain_, readnoise_;
    bool disregard_nan_, on_;
};

}  // namespace detail

// The ccd with uncertainty from gain (electron/adu, say: data * gain is in readnoise's unit)
// and read noise.
template <class C, class = std::enable_if_t<detail::is_array_v<C>>>
auto create_deviation(C&& ccd, const quantity& gain, const quantity& readnoise, bool disregard_nan = false)
{
    std::string record = "ccd_data=" + detail::operand_text(ccd) + ", gain=" + to_string(gain) +
                         ", readnoise=" + to_string(readnoise);
    if (disregard_nan) record += ", disregard_nan=True";
    auto e = detail::deviation_node<detail::node_t<C>>(detail::as_node(std::forward<C>(ccd)), gain, readnoise,
                                                        disregard_nan, true);
    return with_keyword(std::move(e), "CREATVAR", std::move(record), "create_deviation");
}

// Without a gain: the data is already in readnoise's unit (electrons, say).
template <class C, class = std::enable_if_t<detail::is_array_v<C>>>
auto create_deviation(C&& ccd, const quantity& readnoise, bool disregard_nan = false)
{
    std::string record = "ccd_data=" + detail::operand_text(ccd) + ", readnoise=" + to_string(readnoise);
    if (disregard_nan) record += ", disregard_nan=True";
    auto e = detail::deviation_node<detail::node_t<C>>(detail::as_node(std::forward<C>(ccd)), quantity(1.0), readnoise,
                                                        disregard_nan, true);
    return with_keyword(std::move(e), "CREATVAR", std::move(record), "create_deviation");
}

}  // namespace ccdx
