#pragma once
// The lazy expression tree. `(raw - bias - dark * 0.3f) / flat` builds a tree of small nodes;
// nothing is computed until it is assigned to an image or passed to eval(). Every node knows
// when it is built its shape, unit, and whether anything below it carries uncertainty or a
// mask; evaluation asks it for one batch of pixels at (row, column) and gets the values,
// variances and mask bits together (part<B>).

#include <charconv>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <memory>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "ccdx/core/error.hpp"
#include "ccdx/core/header.hpp"
#include "ccdx/core/image.hpp"
#include "ccdx/core/quantity.hpp"
#include "ccdx/core/section.hpp"
#include "ccdx/core/unit.hpp"
#include "ccdx/expr/detail/batch_ops.hpp"
#include "ccdx/expr/propagation.hpp"

namespace ccdx {

// One batch of pixels as a node hands it up: values, variances, mask bits. Kernels that do
// not propagate variance or mask leave those members alone, and the compiler drops them.
template <class B>
struct part {
    B value{};
    B variance{};
    detail::mask_of<B> mask{};
};

// Base of conditions (comparisons and their combinations), which where/mark/replace consume.
struct condition {};

template <class C>
struct is_condition : std::is_base_of<condition, std::decay_t<C>> {};

namespace detail {

// The extent of a scalar along both axes, and of a profile along the axis it broadcasts on.
inline constexpr std::size_t any_extent = std::numeric_limits<std::size_t>::max();

// Binding strength, for printing with the fewest parentheses.
struct precedence {
    static constexpr int logical_or = -2, logical_and = -1, comparison = 0, additive = 1, multiplicative = 2,
                         prefix = 3, primary = 4;
};

inline std::string extent_text(std::size_t n) { return n == any_extent ? "any" : std::to_string(n); }

inline std::string shape_text(const shape2& s)
{
    return "(" + extent_text(s[0]) + ", " + extent_text(s[1]) + ")";
}

// A node's text, or a fixed description.
template <class N>
std::string describe(const N& n)
{
    if constexpr (std::is_convertible_v<const N&, std::string>)
        return n;
    else
        return n.to_string();
}

// The operands' names are only printed when there is an error to report.
template <class Left, class Right>
shape2 broadcast_shapes(const shape2& a, const shape2& b, Left&& left, Right&& right)
{
    shape2 out{};
    for (std::size_t axis = 0; axis < 2; ++axis) {
        if (a[axis] == any_extent || a[axis] == b[axis])
            out[axis] = b[axis];
        else if (b[axis] == any_extent)
            out[axis] = a[axis];
        else
            throw shape_error("shape mismatch: " + describe(left) + " has shape " + shape_text(a) + " but " +
                              describe(right) + " has shape " + shape_text(b));
    }
    return out;
}

// The shortest text that reads back as the same number: 0.3f prints as 0.3, not 0.30000001.
inline std::string number_text(double v, bool single)
{
    char buf[64];
    auto result = single ? std::to_chars(buf, buf + sizeof buf, static_cast<float>(v))
                         : std::to_chars(buf, buf + sizeof buf, v);
    return std::string(buf, result.ptr);
}

inline std::string parenthesize(const std::string& s, bool wrap) { return wrap ? "(" + s + ")" : s; }

// The memory one leaf plane reads, for the evaluator's aliasing check: the whole buffer it
// lies in, and where element (0, 0) of the evaluation maps to and how indices step.
struct plane_ref {
    enum kind_t { data, sigma, mask } kind;
    const void* lo;
    const void* hi;
    const void* origin;
    std::ptrdiff_t row_stride;  // elements
    std::ptrdiff_t col_step;    // elements
};

// The pixel type of an expression: void for scalars, otherwise the widest image type below.
template <class A, class B>
struct common_value : std::common_type<A, B> {};
template <class A>
struct common_value<A, void> {
    using type = A;
};
template <class B>
struct common_value<void, B> {
    using type = B;
};
template <>
struct common_value<void, void> {
    using type = void;
};
template <class A, class B>
using common_value_t = typename common_value<A, B>::type;

// Units for a node that adds, subtracts, compares or selects between its operands. A bare
// number (no unit) takes the other side's unit, so `raw - 100` works on an image in adu.
template <class Left, class Right>
ccdx::unit same_unit(const ccdx::unit& a, bool a_bare, const ccdx::unit& b, bool b_bare, Left&& left, Right&& right)
{
    if (a_bare) return b;
    if (b_bare || a == b) return a;
    throw unit_error("unit mismatch: " + describe(left) + " is in '" + to_string(a) + "' but " + describe(right) +
                     " is in '" + to_string(b) + "'");
}

}  // namespace detail

// ---------------------------------------------------------------------------------------------
// Leaves

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
    explicit scalar_leaf(const quantity& q) : value_(q.value), unit_(q.unit), text_(ccdx::to_string(q)), bare_(false) {}

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
    if constexpr (is_expression<D>::value)
        return D(std::forward<X>(x));
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

template <class N>
bool is_bare(const N& n)
{
    if constexpr (std::is_same_v<N, scalar_leaf>)
        return n.is_bare();
    else
        return false;
}

// Common members of a node with one child: shape, header and aliasing pass through.
template <class E>
class unary_base : public expression {
public:
    explicit unary_base(E e) : e_(std::move(e)) {}
    using value_type = typename E::value_type;
    shape2 shape() const noexcept { return e_.shape(); }
    const ccdx::header* first_header() const noexcept { return e_.first_header(); }
    void add_cards(ccdx::header& h) const { e_.add_cards(h); }
    template <class F>
    void visit_planes(F&& f, std::ptrdiff_t dr, std::ptrdiff_t dc) const { e_.visit_planes(f, dr, dc); }
    const E& operand() const noexcept { return e_; }

protected:
    E e_;
};

// The unit both sides share, a bare number taking the other side's (unit_error otherwise).
template <class L, class R>
ccdx::unit common_unit(const L& l, const R& r)
{
    return same_unit(l.unit(), is_bare(l), r.unit(), is_bare(r), l, r);
}

// Common members of a node with two children: the broadcast shape, and aliasing through both.
template <class Base, class L, class R>
class binary_base : public Base {
public:
    binary_base(L l, R r)
        : l_(std::move(l)), r_(std::move(r)), shape_(broadcast_shapes(l_.shape(), r_.shape(), l_, r_))
    {
    }
    shape2 shape() const noexcept { return shape_; }
    template <class F>
    void visit_planes(F&& f, std::ptrdiff_t dr, std::ptrdiff_t dc) const
    {
        l_.visit_planes(f, dr, dc);
        r_.visit_planes(f, dr, dc);
    }

protected:
    L l_;
    R r_;
    shape2 shape_;
};

// ...whose children are both arrays: its unit, and uncertainty, mask, header and records from both.
template <class L, class R>
class array_pair : public binary_base<expression, L, R> {
public:
    using value_type = common_value_t<typename L::value_type, typename R::value_type>;
    static constexpr bool exact = L::exact && R::exact;
    using binary_base<expression, L, R>::binary_base;

    const ccdx::unit& unit() const noexcept { return unit_; }
    bool has_variance() const noexcept { return this->l_.has_variance() || this->r_.has_variance(); }
    bool has_mask() const noexcept { return this->l_.has_mask() || this->r_.has_mask(); }
    const ccdx::header* first_header() const noexcept
    {
        const ccdx::header* h = this->l_.first_header();
        return h ? h : this->r_.first_header();
    }
    void add_cards(ccdx::header& h) const
    {
        this->l_.add_cards(h);
        this->r_.add_cards(h);
    }

protected:
    ccdx::unit unit_;
};

// The unit of `l Op r`.
template <class Op, class L, class R>
ccdx::unit arithmetic_unit(const L& l, const R& r)
{
    if constexpr (std::is_base_of_v<ops::additive, Op>)
        return common_unit(l, r);
    else if constexpr (std::is_same_v<Op, ops::multiplies>)
        return l.unit() * r.unit();
    else
        return l.unit() / r.unit();
}

// Left-associative: a right operand of equal precedence needs parentheses (a - (b - c)).
template <class Op, class L, class R>
std::string arithmetic_text(const L& l, const R& r)
{
    return parenthesize(l.to_string(), L::precedence < Op::precedence) + " " + Op::symbol + " " +
           parenthesize(r.to_string(), R::precedence <= Op::precedence);
}

// The variance of `a Op b`. An operand with no uncertainty contributes no term: 0 * inf must not
// turn a finite variance into NaN. Exactness known from the type costs no test. (With neither
// side uncertain the result is unused: the node reports no variance.)
template <class Op, class L, class R, class B>
CCDX_FORCE_INLINE B arithmetic_variance(const part<B>& a, const part<B>& b, bool lv, bool rv) noexcept
{
    if constexpr (R::exact)
        return Op::variance_exact_right(a.value, a.variance, b.value);
    else if constexpr (L::exact)
        return Op::variance_exact_left(a.value, b.value, b.variance);
    else if (lv && rv)
        return Op::variance(a.value, a.variance, b.value, b.variance);
    else if (lv)
        return Op::variance_exact_right(a.value, a.variance, b.value);
    else
        return Op::variance_exact_left(a.value, b.value, b.variance);
}

}  // namespace detail

// ---------------------------------------------------------------------------------------------
// Arithmetic

template <class Op, class L, class R>
class binary : public detail::array_pair<L, R> {
    using base = detail::array_pair<L, R>;

public:
    static constexpr int precedence = Op::precedence;

    binary(L l, R r) : base(std::move(l), std::move(r))
    {
        this->unit_ = detail::arithmetic_unit<Op>(this->l_, this->r_);
        if constexpr (std::is_base_of_v<ops::additive, Op>)
            bare_ = detail::is_bare(this->l_) && detail::is_bare(this->r_);
        lv_ = this->l_.has_variance();
        rv_ = this->r_.has_variance();
    }

    bool has_variance() const noexcept { return lv_ || rv_; }
    std::string to_string() const { return detail::arithmetic_text<Op>(this->l_, this->r_); }

    template <bool V, bool M, class B>
    part<B> load(std::size_t r, std::size_t c) const noexcept
    {
        const part<B> a = this->l_.template load<V, M, B>(r, c);
        const part<B> b = this->r_.template load<V, M, B>(r, c);
        part<B> p;
        p.value = Op::value(a.value, b.value);
        if constexpr (V && !base::exact) p.variance = detail::arithmetic_variance<Op, L, R>(a, b, lv_, rv_);
        if constexpr (M) p.mask = a.mask | b.mask;
        return p;
    }

    bool is_bare() const noexcept { return bare_; }

private:
    bool lv_ = false, rv_ = false, bare_ = false;
};

template <class Op, class E>
class unary : public detail::unary_base<E> {
public:
    static constexpr bool exact = E::exact;
    static constexpr int precedence = std::is_same_v<Op, ops::negate> ? detail::precedence::prefix : detail::precedence::primary;

    explicit unary(E e) : detail::unary_base<E>(std::move(e))
    {
        const ccdx::unit& u = this->e_.unit();
        if constexpr (std::is_same_v<Op, ops::square>)
            unit_ = u * u;
        else if constexpr (std::is_same_v<Op, ops::square_root>)
            unit_ = u.root(2);
        else
            unit_ = u;
    }

    const ccdx::unit& unit() const noexcept { return unit_; }
    bool has_variance() const noexcept { return this->e_.has_variance(); }
    bool has_mask() const noexcept { return this->e_.has_mask(); }

    std::string to_string() const
    {
        if constexpr (std::is_same_v<Op, ops::negate>)
            return "-" + detail::parenthesize(this->e_.to_string(), E::precedence < detail::precedence::primary);
        else
            return std::string(Op::name) + "(" + this->e_.to_string() + ")";
    }

    template <bool V, bool M, class B>
    part<B> load(std::size_t r, std::size_t c) const noexcept
    {
        const part<B> a = this->e_.template load<V, M, B>(r, c);
        part<B> p;
        p.value = Op::value(a.value);
        if constexpr (V && !exact) p.variance = Op::variance(a.value, p.value, a.variance);
        if constexpr (M) p.mask = a.mask;
        return p;
    }

private:
    ccdx::unit unit_;
};

// min(a, b), max(a, b): value, variance of the side chosen; masks of both OR'd (both were read).
template <bool Max, class L, class R>
class extremum : public detail::array_pair<L, R> {
    using base = detail::array_pair<L, R>;

public:
    static constexpr int precedence = detail::precedence::primary;

    extremum(L l, R r) : base(std::move(l), std::move(r)) { this->unit_ = detail::common_unit(this->l_, this->r_); }

    std::string to_string() const
    {
        return std::string(Max ? "max(" : "min(") + this->l_.to_string() + ", " + this->r_.to_string() + ")";
    }

    template <bool V, bool M, class B>
    part<B> load(std::size_t r, std::size_t c) const noexcept
    {
        const part<B> a = this->l_.template load<V, M, B>(r, c);
        const part<B> b = this->r_.template load<V, M, B>(r, c);
        // Keep a unless b is strictly beyond it (and a is not NaN, which propagates).
        const auto take_b = detail::logical_not(detail::is_nan(a.value)) && (Max ? b.value > a.value : b.value < a.value);
        part<B> p;
        p.value = detail::select(take_b, b.value, a.value);
        if constexpr (V && !base::exact) p.variance = detail::select(take_b, b.variance, a.variance);
        if constexpr (M) p.mask = a.mask | b.mask;
        return p;
    }
};

// clip(e, lo, hi): limited to [lo, hi]; a clipped pixel no longer depends on e, so its
// variance is 0 (the derivative rule f'(a)^2 va).
template <class E>
class clipped : public detail::unary_base<E> {
public:
    static constexpr bool exact = E::exact;
    static constexpr int precedence = detail::precedence::primary;

    clipped(E e, double lo, double hi) : detail::unary_base<E>(std::move(e)), lo_(lo), hi_(hi)
    {
        if (!(lo <= hi))
            throw value_error("clip bounds out of order in clip(" + this->e_.to_string() + ", " +
                              detail::number_text(lo, false) + ", " + detail::number_text(hi, false) + ")");
    }

    const ccdx::unit& unit() const noexcept { return this->e_.unit(); }
    bool has_variance() const noexcept { return this->e_.has_variance(); }
    bool has_mask() const noexcept { return this->e_.has_mask(); }
    std::string to_string() const
    {
        return "clip(" + this->e_.to_string() + ", " + detail::number_text(lo_, false) + ", " +
               detail::number_text(hi_, false) + ")";
    }

    template <bool V, bool M, class B>
    part<B> load(std::size_t r, std::size_t c) const noexcept
    {
        using T = typename detail::lanes<B>::value_type;
        part<B> p = this->e_.template load<V, M, B>(r, c);
        const B lo(static_cast<T>(lo_)), hi(static_cast<T>(hi_));
        const auto below = p.value < lo, above = p.value > hi;
        p.value = detail::select(below, lo, detail::select(above, hi, p.value));
        if constexpr (V && !exact) p.variance = detail::select(below || above, B(T(0)), p.variance);
        return p;
    }

private:
    double lo_, hi_;
};

// A rectangular window of any expression: reads (r + r0, c + c0).
template <class E>
class window : public detail::unary_base<E> {
public:
    static constexpr bool exact = E::exact;
    static constexpr int precedence = detail::precedence::primary;

    window(E e, const section& s) : detail::unary_base<E>(std::move(e)), section_(s)
    {
        const shape2 full = this->e_.shape();
        if (s.rows.reversed || s.cols.reversed)
            throw section_error("reversed section " + ccdx::to_string(s) + " of an expression: view an image instead");
        if (s.rows.begin > s.rows.end || s.cols.begin > s.cols.end ||
            (full[0] != detail::any_extent && s.rows.end > full[0]) ||
            (full[1] != detail::any_extent && s.cols.end > full[1]))
            throw section_error("section " + ccdx::to_string(s) + " lies outside " + this->e_.to_string() +
                                " of shape " + detail::shape_text(full));
    }

    shape2 shape() const noexcept { return {section_.rows.size(), section_.cols.size()}; }
    const ccdx::unit& unit() const noexcept { return this->e_.unit(); }
    bool has_variance() const noexcept { return this->e_.has_variance(); }
    bool has_mask() const noexcept { return this->e_.has_mask(); }
    std::string to_string() const
    {
        return detail::parenthesize(this->e_.to_string(), E::precedence < detail::precedence::primary) + ccdx::to_string(section_);
    }
    template <class F>
    void visit_planes(F&& f, std::ptrdiff_t dr, std::ptrdiff_t dc) const
    {
        this->e_.visit_planes(f, dr + static_cast<std::ptrdiff_t>(section_.rows.begin),
                              dc + static_cast<std::ptrdiff_t>(section_.cols.begin));
    }

    template <bool V, bool M, class B>
    part<B> load(std::size_t r, std::size_t c) const noexcept
    {
        return this->e_.template load<V, M, B>(r + section_.rows.begin, c + section_.cols.begin);
    }

private:
    section section_;
};

// A node with its unit, uncertainty or header changed: with_unit, without_uncertainty,
// with_keyword, with_history.
template <class E>
class relabeled : public detail::unary_base<E> {
public:
    static constexpr bool exact = E::exact;
    static constexpr int precedence = E::precedence;

    explicit relabeled(E e) : detail::unary_base<E>(std::move(e)), unit_(this->e_.unit()), variance_(this->e_.has_variance()) {}

    relabeled& set_unit(ccdx::unit u)
    {
        unit_ = std::move(u);
        return *this;
    }
    relabeled& drop_variance()
    {
        variance_ = false;
        return *this;
    }
    relabeled& add_card(card c)
    {
        cards_.push_back(std::move(c));
        return *this;
    }

    const ccdx::unit& unit() const noexcept { return unit_; }
    bool has_variance() const noexcept { return variance_; }
    bool has_mask() const noexcept { return this->e_.has_mask(); }
    std::string to_string() const { return this->e_.to_string(); }
    void add_cards(ccdx::header& h) const
    {
        this->e_.add_cards(h);
        for (const card& c : cards_) {
            if (c.keyword == "HISTORY")
                h.add_history(std::get<std::string>(c.value));
            else
                h.set(c.keyword, c.value, c.comment);
        }
    }

    template <bool V, bool M, class B>
    part<B> load(std::size_t r, std::size_t c) const noexcept
    {
        // Called with V only when has_variance(), which a dropped variance never is.
        return this->e_.template load<V, M, B>(r, c);
    }

private:
    ccdx::unit unit_;
    bool variance_;
    std::vector<card> cards_;
};

// ---------------------------------------------------------------------------------------------
// Conditions

template <class Op, class L, class R>
class comparison : public detail::binary_base<condition, L, R> {
public:
    static constexpr int precedence = detail::precedence::comparison;

    comparison(L l, R r) : detail::binary_base<condition, L, R>(std::move(l), std::move(r))
    {
        detail::common_unit(this->l_, this->r_);  // comparing adu with electron is an error
    }

    std::string to_string() const
    {
        return detail::parenthesize(this->l_.to_string(), L::precedence <= precedence) + " " + Op::symbol + " " +
               detail::parenthesize(this->r_.to_string(), R::precedence <= precedence);
    }

    template <class B>
    detail::condition_t<B> test(std::size_t r, std::size_t c) const noexcept
    {
        return Op::test(this->l_.template load<false, false, B>(r, c).value,
                        this->r_.template load<false, false, B>(r, c).value);
    }
};

template <bool And, class L, class R>
class logical : public detail::binary_base<condition, L, R> {
public:
    static constexpr int precedence = And ? detail::precedence::logical_and : detail::precedence::logical_or;

    using detail::binary_base<condition, L, R>::binary_base;

    std::string to_string() const
    {
        return detail::parenthesize(this->l_.to_string(), L::precedence < precedence) + (And ? " && " : " || ") +
               detail::parenthesize(this->r_.to_string(), R::precedence <= precedence);
    }

    template <class B>
    detail::condition_t<B> test(std::size_t r, std::size_t c) const noexcept
    {
        if constexpr (And)
            return this->l_.template test<B>(r, c) && this->r_.template test<B>(r, c);
        else
            return this->l_.template test<B>(r, c) || this->r_.template test<B>(r, c);
    }
};

template <class C>
class negation : public condition {
public:
    static constexpr int precedence = detail::precedence::prefix;
    explicit negation(C c) : c_(std::move(c)) {}
    shape2 shape() const noexcept { return c_.shape(); }
    std::string to_string() const { return "!" + detail::parenthesize(c_.to_string(), C::precedence < precedence); }
    template <class F>
    void visit_planes(F&& f, std::ptrdiff_t dr, std::ptrdiff_t dc) const { c_.visit_planes(f, dr, dc); }
    template <class B>
    detail::condition_t<B> test(std::size_t r, std::size_t c) const noexcept
    {
        return detail::logical_not(c_.template test<B>(r, c));
    }

private:
    C c_;
};

// is_nan(e) and is_masked(e): tests of one operand's values or mask bits.
template <bool Mask, class E>
class pixel_test : public condition {
public:
    static constexpr int precedence = detail::precedence::primary;
    explicit pixel_test(E e) : e_(std::move(e)) {}
    shape2 shape() const noexcept { return e_.shape(); }
    std::string to_string() const { return std::string(Mask ? "is_masked(" : "is_nan(") + e_.to_string() + ")"; }
    template <class F>
    void visit_planes(F&& f, std::ptrdiff_t dr, std::ptrdiff_t dc) const { e_.visit_planes(f, dr, dc); }
    template <class B>
    detail::condition_t<B> test(std::size_t r, std::size_t c) const noexcept
    {
        if constexpr (Mask)
            return detail::any_bits<B>(e_.template load<false, true, B>(r, c).mask);
        else
            return detail::is_nan(e_.template load<false, false, B>(r, c).value);
    }

private:
    E e_;
};

// where(condition, a, b): the selected side's value, variance and mask.
template <class C, class L, class R>
class selection : public detail::array_pair<L, R> {
    using base = detail::array_pair<L, R>;

public:
    static constexpr int precedence = detail::precedence::primary;

    selection(C cond, L l, R r) : base(std::move(l), std::move(r)), c_(std::move(cond))
    {
        this->shape_ = detail::broadcast_shapes(c_.shape(), this->shape_, c_, "its operands");
        this->unit_ = detail::common_unit(this->l_, this->r_);
    }

    template <class F>
    void visit_planes(F&& f, std::ptrdiff_t dr, std::ptrdiff_t dc) const
    {
        c_.visit_planes(f, dr, dc);
        base::visit_planes(f, dr, dc);
    }
    std::string to_string() const
    {
        return "where(" + c_.to_string() + ", " + this->l_.to_string() + ", " + this->r_.to_string() + ")";
    }

    template <bool V, bool M, class B>
    part<B> load(std::size_t r, std::size_t c) const noexcept
    {
        const auto t = c_.template test<B>(r, c);
        const part<B> a = this->l_.template load<V, M, B>(r, c);
        const part<B> b = this->r_.template load<V, M, B>(r, c);
        part<B> p;
        p.value = detail::select(t, a.value, b.value);
        if constexpr (V && !base::exact) p.variance = detail::select(t, a.variance, b.variance);
        if constexpr (M) p.mask = detail::mask_of<B>::select(t, a.mask, b.mask);
        return p;
    }

private:
    C c_;
};

namespace detail {

// A node that edits its operand where a condition holds: the operand's shape, unit and variance.
template <class E, class C>
class conditional_edit : public unary_base<E> {
public:
    static constexpr bool exact = E::exact;
    static constexpr int precedence = detail::precedence::primary;

    conditional_edit(E e, C cond) : unary_base<E>(std::move(e)), c_(std::move(cond))
    {
        broadcast_shapes(this->e_.shape(), c_.shape(), this->e_, c_);
    }

    const ccdx::unit& unit() const noexcept { return this->e_.unit(); }
    bool has_variance() const noexcept { return this->e_.has_variance(); }
    template <class F>
    void visit_planes(F&& f, std::ptrdiff_t dr, std::ptrdiff_t dc) const
    {
        this->e_.visit_planes(f, dr, dc);
        c_.visit_planes(f, dr, dc);
    }

protected:
    C c_;
};

}  // namespace detail

// mark(e, condition, bits): e with `bits` OR'd into the mask where the condition holds.
template <class E, class C>
class marked : public detail::conditional_edit<E, C> {
public:
    marked(E e, C cond, mask_t bits) : detail::conditional_edit<E, C>(std::move(e), std::move(cond)), bits_(bits)
    {
        if (bits == 0) throw value_error(to_string() + " with no mask bits");
    }

    bool has_mask() const noexcept { return true; }
    std::string to_string() const { return "mark(" + this->e_.to_string() + ", " + this->c_.to_string() + ")"; }

    template <bool V, bool M, class B>
    part<B> load(std::size_t r, std::size_t c) const noexcept
    {
        part<B> p = this->e_.template load<V, M, B>(r, c);
        if constexpr (M) p.mask = p.mask | detail::mask_of<B>::bits_where(this->c_.template test<B>(r, c), bits_);
        return p;
    }

private:
    mask_t bits_;
};

// replace(e, condition, value): value replaced where the condition holds; variance and mask kept.
template <class E, class C>
class replaced : public detail::conditional_edit<E, C> {
public:
    replaced(E e, C cond, double value) : detail::conditional_edit<E, C>(std::move(e), std::move(cond)), value_(value) {}

    bool has_mask() const noexcept { return this->e_.has_mask(); }
    std::string to_string() const
    {
        return "replace(" + this->e_.to_string() + ", " + this->c_.to_string() + ", " + detail::number_text(value_, false) + ")";
    }

    template <bool V, bool M, class B>
    part<B> load(std::size_t r, std::size_t c) const noexcept
    {
        using T = typename detail::lanes<B>::value_type;
        part<B> p = this->e_.template load<V, M, B>(r, c);
        p.value = detail::select(this->c_.template test<B>(r, c), B(static_cast<T>(value_)), p.value);
        return p;
    }

private:
    double value_;
};

// ---------------------------------------------------------------------------------------------
// The operators and functions users write

namespace detail {
template <class A, class B>
inline constexpr bool binary_operands_v = is_operand_v<A> && is_operand_v<B> && (is_array_v<A> || is_array_v<B>);

template <class Op, class A, class B>
auto make_binary(A&& a, B&& b)
{
    return binary<Op, node_t<A>, node_t<B>>(as_node(std::forward<A>(a)), as_node(std::forward<B>(b)));
}

template <class Op, class A, class B>
auto make_comparison(A&& a, B&& b)
{
    return comparison<Op, node_t<A>, node_t<B>>(as_node(std::forward<A>(a)), as_node(std::forward<B>(b)));
}
}  // namespace detail

#define CCDX_BINARY_OPERATOR(sym, op)                                                            \
    template <class A, class B, class = std::enable_if_t<detail::binary_operands_v<A, B>>>      \
    auto operator sym(A&& a, B&& b)                                                              \
    {                                                                                            \
        return detail::make_binary<ops::op>(std::forward<A>(a), std::forward<B>(b));             \
    }
CCDX_BINARY_OPERATOR(+, plus)
CCDX_BINARY_OPERATOR(-, minus)
CCDX_BINARY_OPERATOR(*, multiplies)
CCDX_BINARY_OPERATOR(/, divides)
#undef CCDX_BINARY_OPERATOR

#define CCDX_COMPARISON_OPERATOR(sym, op)                                                        \
    template <class A, class B, class = std::enable_if_t<detail::binary_operands_v<A, B>>>      \
    auto operator sym(A&& a, B&& b)                                                              \
    {                                                                                            \
        return detail::make_comparison<ops::op>(std::forward<A>(a), std::forward<B>(b));          \
    }
CCDX_COMPARISON_OPERATOR(<, less)
CCDX_COMPARISON_OPERATOR(<=, less_equal)
CCDX_COMPARISON_OPERATOR(>, greater)
CCDX_COMPARISON_OPERATOR(>=, greater_equal)
CCDX_COMPARISON_OPERATOR(==, equal)
CCDX_COMPARISON_OPERATOR(!=, not_equal)
#undef CCDX_COMPARISON_OPERATOR

template <class A, class = std::enable_if_t<detail::is_array_v<A>>>
auto operator-(A&& a)
{
    return unary<ops::negate, detail::node_t<A>>(detail::as_node(std::forward<A>(a)));
}

#define CCDX_UNARY_FUNCTION(name, op)                                                            \
    template <class A, class = std::enable_if_t<detail::is_array_v<A>>>                         \
    auto name(A&& a)                                                                             \
    {                                                                                            \
        return unary<ops::op, detail::node_t<A>>(detail::as_node(std::forward<A>(a)));            \
    }
CCDX_UNARY_FUNCTION(sqrt, square_root)
CCDX_UNARY_FUNCTION(abs, absolute)
CCDX_UNARY_FUNCTION(square, square)
#undef CCDX_UNARY_FUNCTION

template <class A, class B, class = std::enable_if_t<detail::binary_operands_v<A, B>>>
auto min(A&& a, B&& b)
{
    return extremum<false, detail::node_t<A>, detail::node_t<B>>(detail::as_node(std::forward<A>(a)),
                                                                  detail::as_node(std::forward<B>(b)));
}
template <class A, class B, class = std::enable_if_t<detail::binary_operands_v<A, B>>>
auto max(A&& a, B&& b)
{
    return extremum<true, detail::node_t<A>, detail::node_t<B>>(detail::as_node(std::forward<A>(a)),
                                                                 detail::as_node(std::forward<B>(b)));
}

template <class A, class = std::enable_if_t<detail::is_array_v<A>>>
auto clip(A&& a, double lo, double hi)
{
    return clipped<detail::node_t<A>>(detail::as_node(std::forward<A>(a)), lo, hi);
}

// A rectangular window of an image (a strided view, no copy) or of any expression.
template <class A, class = std::enable_if_t<detail::is_array_v<A>>>
auto view(A&& a, const section& s)
{
    if constexpr (detail::is_image<std::decay_t<A>>::value)
        return detail::as_node(std::forward<A>(a)).window(s);
    else
        return window<std::decay_t<A>>(std::forward<A>(a), s);
}
template <class A, class = std::enable_if_t<detail::is_array_v<A>>>
auto view(A&& a, axis_range rows, axis_range cols)
{
    return view(std::forward<A>(a), section{rows, cols});
}

template <class C1, class C2,
          class = std::enable_if_t<is_condition<C1>::value && is_condition<C2>::value>>
auto operator&&(C1&& a, C2&& b)
{
    return logical<true, std::decay_t<C1>, std::decay_t<C2>>(std::forward<C1>(a), std::forward<C2>(b));
}
template <class C1, class C2,
          class = std::enable_if_t<is_condition<C1>::value && is_condition<C2>::value>>
auto operator||(C1&& a, C2&& b)
{
    return logical<false, std::decay_t<C1>, std::decay_t<C2>>(std::forward<C1>(a), std::forward<C2>(b));
}
template <class C, class = std::enable_if_t<is_condition<C>::value>>
auto operator!(C&& c)
{
    return negation<std::decay_t<C>>(std::forward<C>(c));
}

template <class A, class = std::enable_if_t<detail::is_array_v<A>>>
auto is_nan(A&& a)
{
    return pixel_test<false, detail::node_t<A>>(detail::as_node(std::forward<A>(a)));
}
template <class A, class = std::enable_if_t<detail::is_array_v<A>>>
auto is_masked(A&& a)
{
    return pixel_test<true, detail::node_t<A>>(detail::as_node(std::forward<A>(a)));
}

template <class C, class A, class B,
          class = std::enable_if_t<is_condition<C>::value && detail::binary_operands_v<A, B>>>
auto where(C&& cond, A&& a, B&& b)
{
    return selection<std::decay_t<C>, detail::node_t<A>, detail::node_t<B>>(
        std::forward<C>(cond), detail::as_node(std::forward<A>(a)), detail::as_node(std::forward<B>(b)));
}

template <class A, class C, class = std::enable_if_t<detail::is_array_v<A> && is_condition<C>::value>>
auto mark(A&& a, C&& cond, mask_t bits)
{
    return marked<detail::node_t<A>, std::decay_t<C>>(detail::as_node(std::forward<A>(a)), std::forward<C>(cond), bits);
}

template <class A, class C, class = std::enable_if_t<detail::is_array_v<A> && is_condition<C>::value>>
auto replace(A&& a, C&& cond, double value)
{
    return replaced<detail::node_t<A>, std::decay_t<C>>(detail::as_node(std::forward<A>(a)), std::forward<C>(cond), value);
}

template <class A, class = std::enable_if_t<detail::is_array_v<A>>>
auto with_unit(A&& a, ccdx::unit u)
{
    auto r = relabeled<detail::node_t<A>>(detail::as_node(std::forward<A>(a)));
    r.set_unit(std::move(u));
    return r;
}

template <class A, class = std::enable_if_t<detail::is_array_v<A>>>
auto without_uncertainty(A&& a)
{
    auto r = relabeled<detail::node_t<A>>(detail::as_node(std::forward<A>(a)));
    r.drop_variance();
    return r;
}

template <class A, class = std::enable_if_t<detail::is_array_v<A>>>
auto with_keyword(A&& a, std::string keyword, card_value value, std::string comment = "")
{
    auto r = relabeled<detail::node_t<A>>(detail::as_node(std::forward<A>(a)));
    r.add_card(card{std::move(keyword), std::move(value), std::move(comment)});
    return r;
}

// Records the formula itself in the result's header as a HISTORY card.
template <class A, class = std::enable_if_t<detail::is_array_v<A>>>
auto with_history(A&& a)
{
    auto r = relabeled<detail::node_t<A>>(detail::as_node(std::forward<A>(a)));
    r.add_card(card{"HISTORY", card_value{r.to_string()}, ""});
    return r;
}

template <class E, class = std::enable_if_t<is_expression<E>::value || is_condition<E>::value>>
std::string to_string(const E& e)
{
    return e.to_string();
}

}  // namespace ccdx

#include "ccdx/expr/evaluate.hpp"
