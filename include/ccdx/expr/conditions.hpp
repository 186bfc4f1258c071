#pragma once
// Conditions (a < b, &&, ||, !, is_nan, is_masked) and where(condition, a, b), which selects
// between two arrays pixel by pixel.

#include <cstddef>
#include <string>
#include <utility>

#include "ccdx/expr/node.hpp"
#include "ccdx/expr/propagation.hpp"

namespace ccdx {

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
        return detail::infix_text(this->l_.to_string(), L::precedence, Op::symbol, precedence, this->r_.to_string(),
                                  R::precedence, /*chains=*/false);
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
        return detail::infix_text(this->l_.to_string(), L::precedence, And ? "&&" : "||", precedence, this->r_.to_string(),
                                  R::precedence);
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
    std::string to_string() const { return detail::prefix_text("!", c_.to_string(), C::precedence, precedence); }
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
    std::string to_string() const { return detail::call_text(Mask ? "is_masked" : "is_nan", {e_.to_string()}); }
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
        return detail::call_text("where", {c_.to_string(), this->l_.to_string(), this->r_.to_string()});
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

}  // namespace ccdx
