#pragma once
// Expression nodes the reduction steps need beyond the engine's own: a step that can be
// switched off at run time (ccd_process applies bias, dark, flat, gain... only when given,
// yet must have one static type), a floor on a flat's values that keeps their variance, a
// header edit applied to the evaluated result, the uncertainty created from the values
// (create_deviation), a bad-pixel mask plane OR'd in (ccd_process), and the formula text
// shown for a composite. They follow the node protocol of node.hpp.

#include <cctype>
#include <cstddef>
#include <functional>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "ccdx/expr/expression.hpp"

namespace ccdx::detail {

// `l Op r` when `on`, otherwise `l` unchanged (r is neither checked, read nor printed).
template <class Op, class L, class R>
class optional_binary : public expression {
public:
    using value_type = common_value_t<typename L::value_type, typename R::value_type>;
    static constexpr bool exact = L::exact && R::exact;
    static constexpr int precedence = Op::precedence;

    optional_binary(L l, R r, bool on) : l_(std::move(l)), r_(std::move(r)), on_(on)
    {
        lv_ = l_.has_variance();
        if (!on_) {
            shape_ = l_.shape();
            unit_ = l_.unit();
            return;
        }
        shape_ = broadcast_shapes(l_.shape(), r_.shape(), l_, r_);
        unit_ = arithmetic_unit<Op>(l_, r_);
        rv_ = r_.has_variance();
    }

    bool enabled() const noexcept { return on_; }
    shape2 shape() const noexcept { return shape_; }
    const ccdx::unit& unit() const noexcept { return unit_; }
    bool has_variance() const noexcept { return lv_ || rv_; }
    bool has_mask() const noexcept { return l_.has_mask() || (on_ && r_.has_mask()); }
    const ccdx::header* first_header() const noexcept
    {
        const ccdx::header* h = l_.first_header();
        return h || !on_ ? h : r_.first_header();
    }
    void add_cards(ccdx::header& h) const
    {
        l_.add_cards(h);
        if (on_) r_.add_cards(h);
    }
    template <class F>
    void visit_planes(F&& f, std::ptrdiff_t dr, std::ptrdiff_t dc) const
    {
        l_.visit_planes(f, dr, dc);
        if (on_) r_.visit_planes(f, dr, dc);
    }
    std::string to_string() const
    {
        return on_ ? arithmetic_text<Op>(l_, r_) : l_.to_string();
    }

    template <bool V, bool M, class B>
    CCDX_FORCE_INLINE part<B> load(std::size_t r, std::size_t c) const noexcept
    {
        // One object returned on both paths: the compiler keeps it in registers through a
        // deep tree of these (two returned objects made it spill each level to the stack).
        part<B> p = l_.template load<V, M, B>(r, c);
        if (on_) {
            const part<B> b = r_.template load<V, M, B>(r, c);
            if constexpr (V && !exact) p.variance = arithmetic_variance<Op, L, R>(p, b, lv_, rv_);
            p.value = Op::value(p.value, b.value);
            if constexpr (M) p.mask = p.mask | b.mask;
        }
        return p;
    }

private:
    L l_;
    R r_;
    bool on_;
    shape2 shape_{};
    ccdx::unit unit_;
    bool lv_ = false, rv_ = false;
};

template <class Op, class A, class B>
auto optional_operation(A&& a, B&& b, bool on)
{
    return optional_binary<Op, node_t<A>, node_t<B>>(as_node(std::forward<A>(a)), as_node(std::forward<B>(b)), on);
}

// e * k for an exact factor k, printed as e alone when k is 1: the multiply by 1 is exact and
// costs less than a branch per batch, which an optional step would (ccd_process applies the
// gain before or after the calibration frames, and a master may need no unit conversion).
template <class E>
class scaled : public unary_base<E> {
public:
    static constexpr bool exact = E::exact;
    static constexpr int precedence = ops::multiplies::precedence;

    scaled(E e, const quantity& k) : unary_base<E>(std::move(e)), k_(k), unit_(this->e_.unit() * k.unit) {}
    // Relabelled as `as` (a master converted into the science frame's unit by k).
    scaled(E e, double k, ccdx::unit as) : unary_base<E>(std::move(e)), k_(k), unit_(std::move(as)) {}
    // e / d, computed as e * (1/d): a multiply in the pass instead of two divisions (value and
    // variance), at most an ulp away from dividing.
    static scaled divided(E e, const quantity& d)
    {
        scaled s(std::move(e), quantity(1.0 / d.value, ccdx::unit() / d.unit));
        s.divisor_ = d;
        return s;
    }

    const ccdx::unit& unit() const noexcept { return unit_; }
    bool has_variance() const noexcept { return this->e_.has_variance(); }
    bool has_mask() const noexcept { return this->e_.has_mask(); }
    std::string to_string() const
    {
        if (divisor_) {
            return infix_text(this->e_.to_string(), E::precedence, "/", precedence,
                              quantity_text(divisor_->value, divisor_->unit), detail::precedence::primary);
        }
        if (k_.value == 1 && k_.unit.is_dimensionless()) return this->e_.to_string();
        return infix_text(this->e_.to_string(), E::precedence, "*", precedence, quantity_text(k_.value, k_.unit),
                          detail::precedence::primary);
    }

    template <bool V, bool M, class B>
    CCDX_FORCE_INLINE part<B> load(std::size_t r, std::size_t c) const noexcept
    {
        using T = typename lanes<B>::value_type;
        part<B> p = this->e_.template load<V, M, B>(r, c);
        const B k(static_cast<T>(k_.value));
        p.value = p.value * k;
        if constexpr (V && !exact) p.variance = p.variance * (k * k);
        return p;
    }

private:
    quantity k_;
    ccdx::unit unit_;
    std::optional<quantity> divisor_;
};

// Values below `lo` raised to `lo`, variance and mask kept (NaN stays NaN): ccdproc's
// `flat.data[flat.data < min_value] = min_value`. No floor when `lo` is -inf.
template <class E>
class floored : public unary_base<E> {
public:
    static constexpr bool exact = E::exact;
    static constexpr int precedence = detail::precedence::primary;

    floored(E e, double lo) : unary_base<E>(std::move(e)), lo_(lo) {}

    bool enabled() const noexcept { return lo_ != -std::numeric_limits<double>::infinity(); }
    const ccdx::unit& unit() const noexcept { return this->e_.unit(); }
    bool has_variance() const noexcept { return this->e_.has_variance(); }
    bool has_mask() const noexcept { return this->e_.has_mask(); }
    std::string to_string() const
    {
        if (!enabled()) return this->e_.to_string();
        const std::string e = this->e_.to_string(), lo = number_text(lo_);
        return call_text("replace", {e, infix_text(e, E::precedence, "<", detail::precedence::comparison, lo,
                                                   detail::precedence::primary, /*chains=*/false), lo});
    }

    template <bool V, bool M, class B>
    CCDX_FORCE_INLINE part<B> load(std::size_t r, std::size_t c) const noexcept
    {
        using T = typename lanes<B>::value_type;
        part<B> p = this->e_.template load<V, M, B>(r, c);
        if (!enabled()) return p;
        const B lo(static_cast<T>(lo_));
        p.value = select(p.value < lo, lo, p.value);
        return p;
    }

private:
    double lo_;
};

// The evaluated result's header edited by a function (after every card below was applied):
// trim_image shifts the WCS reference pixel and drops section keywords that no longer apply.
template <class E>
class header_edit : public unary_base<E> {
public:
    static constexpr bool exact = E::exact;
    static constexpr int precedence = E::precedence;

    header_edit(E e, std::function<void(ccdx::header&)> edit) : unary_base<E>(std::move(e)), edit_(std::move(edit)) {}

    const ccdx::unit& unit() const noexcept { return this->e_.unit(); }
    bool has_variance() const noexcept { return this->e_.has_variance(); }
    bool has_mask() const noexcept { return this->e_.has_mask(); }
    std::string to_string() const { return this->e_.to_string(); }
    void add_cards(ccdx::header& h) const
    {
        this->e_.add_cards(h);
        if (edit_) edit_(h);
    }
    template <bool V, bool M, class B>
    CCDX_FORCE_INLINE part<B> load(std::size_t r, std::size_t c) const noexcept
    {
        return this->e_.template load<V, M, B>(r, c);
    }

private:
    std::function<void(ccdx::header&)> edit_;
};

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

// e with a mask plane (of e's shape) OR'd into its mask; e unchanged without a plane.
template <class E>
class with_mask_plane : public unary_base<E> {
public:
    static constexpr bool exact = E::exact;
    static constexpr int precedence = detail::precedence::primary;

    with_mask_plane(E e, const xt::xtensor<mask_t, 2>* plane) : unary_base<E>(std::move(e))
    {
        if (!plane) return;
        const shape2 s = this->e_.shape();
        if (plane->shape()[0] != s[0] || plane->shape()[1] != s[1])
            throw shape_error("ccd_process: bad_pixel_mask of shape " +
                              shape_text({plane->shape()[0], plane->shape()[1]}) + " does not match the " +
                              "(trimmed) image of shape " + shape_text(s));
        plane_ = plane->data();
        stride_ = plane->shape()[1];
        size_ = plane->size();
    }

    const ccdx::unit& unit() const noexcept { return this->e_.unit(); }
    bool has_variance() const noexcept { return this->e_.has_variance(); }
    bool has_mask() const noexcept { return plane_ || this->e_.has_mask(); }
    std::string to_string() const
    {
        return plane_ ? "mark(" + this->e_.to_string() + ", bad_pixel_mask)" : this->e_.to_string();
    }
    template <class F>
    void visit_planes(F&& f, std::ptrdiff_t dr, std::ptrdiff_t dc) const
    {
        this->e_.visit_planes(f, dr, dc);
        if (plane_) {
            const auto stride = static_cast<std::ptrdiff_t>(stride_);
            f(plane_ref{plane_ref::mask, plane_, plane_ + size_, plane_ + dr * stride + dc, stride, 1});
        }
    }

    template <bool V, bool M, class B>
    CCDX_FORCE_INLINE part<B> load(std::size_t r, std::size_t c) const noexcept
    {
        part<B> p = this->e_.template load<V, M, B>(r, c);
        if constexpr (M) {
            if (plane_) p.mask = p.mask | load_mask<lanes_v<B>>(plane_ + r * stride_ + c);
        }
        return p;
    }

private:
    const mask_t* plane_ = nullptr;
    std::size_t stride_ = 0, size_ = 0;
};

// How ccdproc's records write an argument: an array as <CCDData>, a number as Python prints a
// float ("3.0"), a quantity as astropy prints it ("3.0 electron / adu").
inline std::string python_float(double x)
{
    std::string t = number_text(x);
    if (t.find_first_of(".en") == std::string::npos) t += ".0";  // 'n': inf and nan stay as they are
    return t;
}

template <class X>
std::string logged_text(const X& x)
{
    using D = std::decay_t<X>;
    if constexpr (is_image<D>::value || is_expression<D>::value) {
        return "<CCDData>";
    } else if constexpr (std::is_same_v<D, quantity>) {
        const std::string u = x.unit.to_string();
        return python_float(x.value) + (u.empty() ? "" : " " + u);
    } else {
        return python_float(static_cast<double>(x));
    }
}

// The cards ccdproc's logging writes for a step: its function's name holding the short keyword,
// then the short keyword holding the call's arguments.
inline std::vector<card> step_cards(std::string_view function, std::string record)
{
    static const std::pair<std::string_view, std::string_view> short_names[] = {
        {"background_deviation_box", "bakdevbx"}, {"background_deviation_filter", "bakdfilt"},
        {"ccd_process", "ccdproc"},               {"cosmicray_median", "crmedian"},
        {"create_deviation", "creatvar"},         {"flat_correct", "flatcor"},
        {"gain_correct", "gaincor"},              {"subtract_bias", "subbias"},
        {"subtract_dark", "subdark"},             {"subtract_overscan", "suboscan"},
        {"trim_image", "trimim"},                 {"transform_image", "tranim"},
        {"wcs_project", "wcsproj"}};
    std::string_view short_name;
    for (const auto& [f, s] : short_names)
        if (f == function) short_name = s;
    const auto upper = [](std::string_view t) {
        std::string u(t);
        for (char& ch : u) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
        return u;
    };
    return {card{upper(function), std::string(short_name), "Shortened name for ccdproc command"},
            card{upper(short_name), std::move(record), ""}};
}

// e recording a step as ccdproc does (see step_cards); add_keyword replaces the record.
template <class E>
relabeled<E> logged(E e, std::string_view function, std::string record)
{
    relabeled<E> r(std::move(e));
    for (card& c : step_cards(function, std::move(record))) r.add_card(std::move(c));
    return r;
}

// How an error message names an operand: an image by its name, an expression by its formula,
// a quantity with its unit.
template <class X>
std::string operand_text(const X& x)
{
    using D = std::decay_t<X>;
    if constexpr (is_image<D>::value)
        return x.name().empty() ? "image" : x.name();
    else if constexpr (is_expression<D>::value)
        return x.to_string();
    else if constexpr (std::is_same_v<D, quantity>)
        return ccdx::to_string(x);
    else
        return number_text(static_cast<double>(x), false);
}

}  // namespace ccdx::detail
