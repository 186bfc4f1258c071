#pragma once
// Nodes that edit what passes through them: a window of an expression, a new unit, no
// uncertainty, header cards (relabeled), and mask bits or values changed where a condition
// holds (mark, replace).

#include <cstddef>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "ccdx/core/detail/format.hpp"
#include "ccdx/core/section.hpp"
#include "ccdx/expr/node.hpp"

namespace ccdx {

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
    relabeled& replace_cards(std::vector<card> cards)
    {
        cards_ = std::move(cards);
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
    std::string to_string() const
    {
        return detail::call_text("mark", {this->e_.to_string(), this->c_.to_string(), std::to_string(bits_)});
    }

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
        return detail::call_text("replace", {this->e_.to_string(), this->c_.to_string(), detail::number_text(value_)});
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

}  // namespace ccdx
