#pragma once
// image<T>: pixels, their uncertainty (standard deviation) and mask, a unit and a FITS header;
// what astropy calls CCDData. Assigning a lazy expression to an image evaluates it in one pass.

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>

#include <xtensor/xtensor.hpp>

#include "ccdx/core/error.hpp"
#include "ccdx/core/header.hpp"
#include "ccdx/core/unit.hpp"

namespace ccdx {

using shape2 = std::array<std::size_t, 2>;

// Mask bit planes: nonzero is bad; each detector ORs in its own bit.
using mask_t = std::uint8_t;

inline std::string to_string(const shape2& s)
{
    return "(" + std::to_string(s[0]) + ", " + std::to_string(s[1]) + ")";
}

// Base of every lazy expression node (expression.hpp); it also makes ccdx's operators
// visible to argument-dependent lookup on any node type.
struct expression {};

template <class E>
struct is_expression : std::is_base_of<expression, std::decay_t<E>> {};

namespace detail {
// For a static_assert that fires only when its template is used.
template <class...>
inline constexpr bool dependent_false = false;
}  // namespace detail

template <class T = float>
class image {
    static_assert(std::is_floating_point_v<T>, "image<T> holds float or double pixels");

public:
    using value_type = T;
    using plane = xt::xtensor<T, 2>;
    using mask_plane = xt::xtensor<mask_t, 2>;

    image() = default;

    image(std::size_t rows, std::size_t cols, ccdx::unit u = {})
        : data_(plane::from_shape({rows, cols})), unit_(std::move(u))
    {
        data_.fill(T(0));
    }

    image(plane data, ccdx::unit u) : data_(std::move(data)), unit_(std::move(u)) {}

    image(plane data, plane uncertainty, ccdx::unit u) : data_(std::move(data)), unit_(std::move(u))
    {
        set_uncertainty(std::move(uncertainty));
    }

    // Evaluates a lazy expression (see expression.hpp / evaluate.hpp).
    template <class E, class = std::enable_if_t<is_expression<E>::value>>
    image(const E& expression);
    template <class E, class = std::enable_if_t<is_expression<E>::value>>
    image& operator=(const E& expression);

    std::size_t rows() const noexcept { return data_.shape()[0]; }
    std::size_t cols() const noexcept { return data_.shape()[1]; }
    shape2 shape() const noexcept { return {rows(), cols()}; }
    std::size_t size() const noexcept { return data_.size(); }

    plane& data() noexcept { return data_; }
    const plane& data() const noexcept { return data_; }

    bool has_uncertainty() const noexcept { return uncertainty_.has_value(); }
    plane& uncertainty() { return checked(uncertainty_, "uncertainty"); }
    const plane& uncertainty() const { return checked(uncertainty_, "uncertainty"); }
    void set_uncertainty(plane sigma)
    {
        require_shape(sigma.shape(), "uncertainty");
        uncertainty_ = std::move(sigma);
    }
    void drop_uncertainty() noexcept { uncertainty_.reset(); }

    bool has_mask() const noexcept { return mask_.has_value(); }
    mask_plane& mask() { return checked(mask_, "mask"); }
    const mask_plane& mask() const { return checked(mask_, "mask"); }
    void set_mask(mask_plane m)
    {
        require_shape(m.shape(), "mask");
        mask_ = std::move(m);
    }
    void drop_mask() noexcept { mask_.reset(); }
    mask_plane& ensure_mask()
    {
        if (!mask_) {
            mask_ = mask_plane::from_shape(data_.shape());
            mask_->fill(0);
        }
        return *mask_;
    }

    const ccdx::unit& unit() const noexcept { return unit_; }
    void set_unit(ccdx::unit u) { unit_ = std::move(u); }

    ccdx::header& header() noexcept { return header_; }
    const ccdx::header& header() const noexcept { return header_; }

    // The name an expression prints for this image, e.g. "raw" in "(raw - bias) / flat".
    const std::string& name() const noexcept { return name_; }
    void set_name(std::string n) { name_ = std::move(n); }

private:
    template <class S>
    void require_shape(const S& s, const char* what) const
    {
        if (s.size() != 2 || s[0] != rows() || s[1] != cols())
            throw shape_error(std::string(what) + " shape " +
                              (s.size() == 2 ? ccdx::to_string(shape2{s[0], s[1]}) : std::string("(not 2-D)")) +
                              " does not match the data shape " + ccdx::to_string(shape()));
    }

    template <class P>
    static P& checked(std::optional<P>& p, const char* what)
    {
        if (!p) throw error(std::string("image has no ") + what);
        return *p;
    }
    template <class P>
    static const P& checked(const std::optional<P>& p, const char* what)
    {
        if (!p) throw error(std::string("image has no ") + what);
        return *p;
    }

    plane data_;
    std::optional<plane> uncertainty_;
    std::optional<mask_plane> mask_;
    ccdx::unit unit_;
    ccdx::header header_;
    std::string name_;
};

}  // namespace ccdx
