#pragma once
// The operators and functions users write: they turn their operands into nodes (leaves.hpp)
// and build the tree; nothing is computed here.

#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

#include <xtensor/xexpression.hpp>

#include "ccdx/expr/arithmetic.hpp"
#include "ccdx/expr/conditions.hpp"
#include "ccdx/expr/edits.hpp"
#include "ccdx/expr/leaves.hpp"

namespace ccdx {

namespace detail {
template <class A, class B>
inline constexpr bool binary_operands_v = is_operand_v<A> && is_operand_v<B> && (is_array_v<A> || is_array_v<B>);

// An array met with something that is not an operand: the most common mistakes are named, in
// a static_assert, instead of a list of every operator the compiler tried.
template <class A, class B>
inline constexpr bool misused_operands_v =
    (is_array_v<A> && !is_operand_v<B>) || (is_array_v<B> && !is_operand_v<A>);

template <class A, class B>
constexpr bool reject_operands()
{
    using X = std::remove_cv_t<std::remove_reference_t<std::conditional_t<is_operand_v<A>, B, A>>>;
    using pointee = std::remove_cv_t<std::remove_pointer_t<X>>;
    static_assert(!(std::is_pointer_v<X> && (is_image<pointee>::value || is_expression<pointee>::value)),
                  "ccdx: a pointer where an image is expected: dereference it (*p)");
    static_assert(!std::is_convertible_v<X, std::string_view>,
                  "ccdx: an image combined with text: give a number, or a quantity such as "
                  "ccdx::quantity(100, ccdx::unit(\"adu\"))");
    static_assert(!xt::is_xexpression<X>::value,
                  "ccdx: an xt::xtensor is not a ccdx image: wrap it as ccdx::image<float>(std::move(t), unit), "
                  "which gives it the unit the operators check");
    static_assert(is_operand_v<X>, "ccdx: an image or expression combines only with an image, an expression, "
                                   "a number or a ccdx::quantity");
    return true;
}

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
    }                                                                                            \
    template <class A, class B, std::enable_if_t<detail::misused_operands_v<A, B>, int> = 0>    \
    auto operator sym(A&&, B&&)                                                                  \
    {                                                                                            \
        static_assert(detail::reject_operands<A, B>());                                          \
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
    }                                                                                            \
    template <class A, class B, std::enable_if_t<detail::misused_operands_v<A, B>, int> = 0>    \
    auto operator sym(A&&, B&&)                                                                  \
    {                                                                                            \
        static_assert(detail::reject_operands<A, B>());                                          \
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

// ccdproc's add_keyword: the cards a step records (SUBBIAS and its kind) replaced by none
// (add_keyword=None), one keyword without a value (a string), one card (a Keyword) or several
// (a dict):  add_keyword(subtract_bias(raw, bias), no_keywords).
struct no_keywords_t {};
inline constexpr no_keywords_t no_keywords{};

template <class E>
relabeled<E> add_keyword(relabeled<E> step, std::vector<card> cards)
{
    step.replace_cards(std::move(cards));
    return step;
}
template <class E>
relabeled<E> add_keyword(relabeled<E> step, no_keywords_t)
{
    return add_keyword(std::move(step), std::vector<card>{});
}
template <class E>
relabeled<E> add_keyword(relabeled<E> step, card c)
{
    return add_keyword(std::move(step), std::vector<card>{std::move(c)});
}
template <class E>
relabeled<E> add_keyword(relabeled<E> step, std::string keyword)
{
    return add_keyword(std::move(step), card{std::move(keyword), {}, ""});
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
