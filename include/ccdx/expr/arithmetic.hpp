#pragma once
// Arithmetic nodes: a + b, a - b, a * b, a / b, -a, sqrt, abs, square, min, max and clip, each
// with the unit rule and the first-order variance rule of propagation.hpp.

#include <cstddef>
#include <string>
#include <type_traits>
#include <utility>

#include "ccdx/core/detail/format.hpp"
#include "ccdx/expr/node.hpp"
#include "ccdx/expr/propagation.hpp"

namespace ccdx {
namespace detail {

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

template <class Op, class L, class R>
std::string arithmetic_text(const L& l, const R& r)
{
    return infix_text(l.to_string(), L::precedence, Op::symbol, Op::precedence, r.to_string(), R::precedence);
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
            return detail::prefix_text("-", this->e_.to_string(), E::precedence, detail::precedence::primary);
        else
            return detail::call_text(Op::name, {this->e_.to_string()});
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
        return detail::call_text(Max ? "max" : "min", {this->l_.to_string(), this->r_.to_string()});
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
            throw value_error("clip bounds out of order in " + to_string());
    }

    const ccdx::unit& unit() const noexcept { return this->e_.unit(); }
    bool has_variance() const noexcept { return this->e_.has_variance(); }
    bool has_mask() const noexcept { return this->e_.has_mask(); }
    std::string to_string() const
    {
        return detail::call_text("clip", {this->e_.to_string(), detail::number_text(lo_), detail::number_text(hi_)});
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

}  // namespace ccdx
