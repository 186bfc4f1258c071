#pragma once
// The leaves of an expression: an image (or a window of one, read in place), a number or
// quantity, and a per-row or per-column profile; and how an operand becomes a node: an image
// by reference (or owned, when given by value), a number as a scalar leaf.

#include <cstddef>
#include <memory>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "ccdx/core/detail/format.hpp"
#include "ccdx/core/quantity.hpp"
#include "ccdx/core/section.hpp"
#include "ccdx/expr/node.hpp"

namespace ccdx {

// An image, or a rectangular window of one, read in place through (pointer, row stride).
template <class U>
class image_leaf : public expression {
public:
    using value_type = U;
    static constexpr bool exact = false;
    static constexpr bool bare = false;
    static constexpr int precedence = detail::precedence::primary;

    explicit image_leaf(const image<U>& img) { attach(img); }
    explicit image_leaf(std::shared_ptr<const image<U>> owned) : owner_(std::move(owned)) { attach(*owner_); }

    // The window [rows) x [cols) of this leaf; reversed ranges read backwards.
    image_leaf window(const section& s) const
    {
        check_window(s);
        image_leaf w = *this;
        const std::ptrdiff_t r0 = static_cast<std::ptrdiff_t>(s.rows.reversed ? s.rows.end - 1 : s.rows.begin);
        const std::ptrdiff_t c0 = static_cast<std::ptrdiff_t>(s.cols.reversed ? s.cols.end - 1 : s.cols.begin);
        const std::ptrdiff_t offset = r0 * stride_ + c0 * step_;
        w.data_ += offset;
        if (w.sigma_) w.sigma_ += offset;
        if (w.mask_) w.mask_ += offset;
        if (s.rows.reversed) w.stride_ = -stride_;
        if (s.cols.reversed) w.step_ = -step_;
        w.shape_ = {s.rows.size(), s.cols.size()};
        w.name_ = name_ + ccdx::to_string(s);
        return w;
    }

    shape2 shape() const noexcept { return shape_; }
    const ccdx::unit& unit() const noexcept { return unit_; }
    bool has_variance() const noexcept { return sigma_ != nullptr; }
    bool has_mask() const noexcept { return mask_ != nullptr; }
    std::string to_string() const { return name_.empty() ? "image" : name_; }
    const ccdx::header* first_header() const noexcept { return header_; }
    void add_cards(ccdx::header&) const {}

    template <class F>
    void visit_planes(F&& f, std::ptrdiff_t dr, std::ptrdiff_t dc) const
    {
        const std::ptrdiff_t offset = dr * stride_ + dc * step_;
        f(detail::plane_ref{detail::plane_ref::data, data_lo_, data_hi_, data_ + offset, stride_, step_});
        if (sigma_) f(detail::plane_ref{detail::plane_ref::sigma, sigma_lo_, sigma_hi_, sigma_ + offset, stride_, step_});
        if (mask_) f(detail::plane_ref{detail::plane_ref::mask, mask_lo_, mask_hi_, mask_ + offset, stride_, step_});
    }

    template <bool V, bool M, class B>
    part<B> load(std::size_t r, std::size_t c) const noexcept
    {
        const std::ptrdiff_t off = static_cast<std::ptrdiff_t>(r) * stride_ + static_cast<std::ptrdiff_t>(c) * step_;
        part<B> p;
        p.value = detail::load_as<B>(data_ + off, step_);
        if constexpr (V) {
            if (sigma_) {
                const B s = detail::load_as<B>(sigma_ + off, step_);
                p.variance = s * s;
            }
        }
        if constexpr (M) {
            if (mask_) p.mask = detail::load_mask<detail::lanes_v<B>>(mask_ + off, step_);
        }
        return p;
    }

private:
    void attach(const image<U>& img)
    {
        data_ = img.data().data();
        data_lo_ = data_;
        data_hi_ = data_ + img.size();
        if (img.has_uncertainty()) {
            sigma_ = img.uncertainty().data();
            sigma_lo_ = sigma_;
            sigma_hi_ = sigma_ + img.size();
        }
        if (img.has_mask()) {
            mask_ = img.mask().data();
            mask_lo_ = mask_;
            mask_hi_ = mask_ + img.size();
        }
        stride_ = static_cast<std::ptrdiff_t>(img.cols());
        shape_ = img.shape();
        unit_ = img.unit();
        name_ = img.name();
        header_ = &img.header();
    }

    void check_window(const section& s) const
    {
        if (s.rows.begin > s.rows.end || s.cols.begin > s.cols.end || s.rows.end > shape_[0] || s.cols.end > shape_[1])
            throw section_error("section " + ccdx::to_string(s) + " lies outside " + to_string() + " of shape " +
                                detail::shape_text(shape_));
    }

    const U* data_ = nullptr;
    const U* sigma_ = nullptr;
    const mask_t* mask_ = nullptr;
    const void* data_lo_ = nullptr;
    const void* data_hi_ = nullptr;
    const void* sigma_lo_ = nullptr;
    const void* sigma_hi_ = nullptr;
    const void* mask_lo_ = nullptr;
    const void* mask_hi_ = nullptr;
    std::ptrdiff_t stride_ = 0;
    std::ptrdiff_t step_ = 1;
    shape2 shape_{};
    ccdx::unit unit_;
    std::string name_;
    const ccdx::header* header_ = nullptr;
    std::shared_ptr<const image<U>> owner_;  // set when the expression was given the image by value
};

// A number: exact (no uncertainty), the same at every pixel. A bare number has no unit of its
// own; a quantity carries one.
class scalar_leaf : public expression {
public:
    using value_type = void;
    static constexpr bool exact = true;
    static constexpr int precedence = detail::precedence::primary;

    template <class N, class = std::enable_if_t<std::is_arithmetic_v<N>>>
    explicit scalar_leaf(N v)
        : value_(static_cast<double>(v)), text_(detail::number_text(value_, std::is_same_v<N, float>)), bare_(true)
    {
    }
    explicit scalar_leaf(const quantity& q)
        : value_(q.value), unit_(q.unit), text_(detail::quantity_text(q.value, q.unit)), bare_(false)
    {
    }

    bool is_bare() const noexcept { return bare_; }
    double value() const noexcept { return value_; }
    shape2 shape() const noexcept { return {detail::any_extent, detail::any_extent}; }
    const ccdx::unit& unit() const noexcept { return unit_; }
    bool has_variance() const noexcept { return false; }
    bool has_mask() const noexcept { return false; }
    std::string to_string() const { return text_; }
    const ccdx::header* first_header() const noexcept { return nullptr; }
    void add_cards(ccdx::header&) const {}
    template <class F>
    void visit_planes(F&&, std::ptrdiff_t, std::ptrdiff_t) const {}

    template <bool, bool, class B>
    part<B> load(std::size_t, std::size_t) const noexcept
    {
        part<B> p;
        p.value = B(static_cast<typename detail::lanes<B>::value_type>(value_));
        return p;
    }

private:
    double value_;
    ccdx::unit unit_;
    std::string text_;
    bool bare_;
};

enum class axis { rows, cols };

// One exact value per row (axis::rows; an overscan model) or per column (axis::cols),
// broadcast along the other axis.
template <class U, axis Along>
class profile_leaf : public expression {
public:
    using value_type = U;
    static constexpr bool exact = true;
    static constexpr int precedence = detail::precedence::primary;

    profile_leaf(std::vector<U> values, ccdx::unit u, std::string name)
        : values_(std::make_shared<const std::vector<U>>(std::move(values))), unit_(std::move(u)), name_(std::move(name))
    {
    }

    const std::vector<U>& values() const noexcept { return *values_; }
    shape2 shape() const noexcept
    {
        return Along == axis::rows ? shape2{values_->size(), detail::any_extent}
                                   : shape2{detail::any_extent, values_->size()};
    }
    const ccdx::unit& unit() const noexcept { return unit_; }
    bool has_variance() const noexcept { return false; }
    bool has_mask() const noexcept { return false; }
    std::string to_string() const { return name_; }
    const ccdx::header* first_header() const noexcept { return nullptr; }
    void add_cards(ccdx::header&) const {}
    template <class F>
    void visit_planes(F&&, std::ptrdiff_t, std::ptrdiff_t) const {}

    template <bool, bool, class B>
    part<B> load(std::size_t r, std::size_t c) const noexcept
    {
        part<B> p;
        if constexpr (Along == axis::rows)
            p.value = B(static_cast<typename detail::lanes<B>::value_type>((*values_)[r]));
        else
            p.value = detail::load_as<B>(values_->data() + c);
        return p;
    }

private:
    std::shared_ptr<const std::vector<U>> values_;
    ccdx::unit unit_;
    std::string name_;
};

template <class U>
profile_leaf<U, axis::rows> row_profile(std::vector<U> values, ccdx::unit u = {}, std::string name = "profile")
{
    return {std::move(values), std::move(u), std::move(name)};
}

template <class U>
profile_leaf<U, axis::cols> column_profile(std::vector<U> values, ccdx::unit u = {}, std::string name = "profile")
{
    return {std::move(values), std::move(u), std::move(name)};
}

// ---------------------------------------------------------------------------------------------
// Turning operands into nodes

namespace detail {

template <class X>
struct is_image : std::false_type {};
template <class U>
struct is_image<image<U>> : std::true_type {};

template <class X>
inline constexpr bool is_array_v = is_image<std::decay_t<X>>::value || is_expression<X>::value;

template <class X>
inline constexpr bool is_operand_v =
    is_array_v<X> || std::is_arithmetic_v<std::decay_t<X>> || std::is_same_v<std::decay_t<X>, quantity>;

template <class X>
auto as_node(X&& x)
{
    using D = std::decay_t<X>;
    if constexpr (is_expression<D>::value) {
        static_assert(check_node<D>());
        return D(std::forward<X>(x));
    }
    else if constexpr (is_image<D>::value) {
        if constexpr (std::is_lvalue_reference_v<X>)
            return image_leaf<typename D::value_type>(x);
        else
            return image_leaf<typename D::value_type>(std::make_shared<const D>(std::move(x)));
    } else
        return scalar_leaf(x);
}

template <class X>
using node_t = decltype(as_node(std::declval<X>()));


}  // namespace detail
}  // namespace ccdx
