#pragma once
// The node protocol: what every node of a lazy expression provides, the trait that checks it,
// and the bases that implement the members a node with one or two children passes through.
//
// A node N (an array: it has pixels) derives from ccdx::expression and has
//   using value_type            the pixel type below it (float, double), or void for a number
//   static bool exact           true when it can never carry uncertainty (known from the type)
//   static int precedence       how tightly it binds when printed (detail::precedence)
//   shape2 shape() const        rows x cols; detail::any_extent along an axis it broadcasts on
//   const unit& unit() const
//   bool has_variance() const, bool has_mask() const
//   std::string to_string() const            the formula as the user would write it
//   const header* first_header() const       the header the result inherits (or nullptr)
//   void add_cards(header&) const            the provenance cards it adds to that header
//   void visit_planes(F, dr, dc) const       every leaf plane it reads (the aliasing check)
//   part<B> load<V, M, B>(row, col) const noexcept
//       the pixels at (row, col) for B an xsimd batch or a lone scalar (the row's tail); with V
//       it fills in the variance, with M the mask bits, and nothing else is computed.
// A condition (what where/mark/replace consume) derives from ccdx::condition and has
// precedence, shape(), to_string(), visit_planes() and test<B>(row, col) returning a lane mask.
// Operators and eval() check every node with check_node<N>(), whose static_assert names the
// member that is missing. Hot loads carry CCDX_FORCE_INLINE: the pass is one loop only when
// the whole tree is inlined into it.

#include <cstddef>
#include <initializer_list>
#include <limits>
#include <string>
#include <type_traits>
#include <utility>

#include "ccdx/core/detail/format.hpp"
#include "ccdx/core/error.hpp"
#include "ccdx/core/header.hpp"
#include "ccdx/core/image.hpp"
#include "ccdx/core/unit.hpp"
#include "ccdx/expr/detail/batch_ops.hpp"

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


inline std::string parenthesize(const std::string& s, bool wrap) { return wrap ? "(" + s + ")" : s; }

// Printing, one set of rules for the C++ nodes and run-time formulas (formula.hpp), with the
// fewest parentheses that keep the tree: what prints reads back as the same formula. Arithmetic
// and logic chain on the left (a - b - c); comparisons do not chain.
inline std::string infix_text(const std::string& l, int lp, const char* symbol, int p, const std::string& r, int rp,
                              bool chains = true)
{
    return parenthesize(l, chains ? lp < p : lp <= p) + " " + symbol + " " + parenthesize(r, rp <= p);
}

// '-' wraps everything but a primary ("-(-a)", never "--a"); '!' what binds less than it.
inline std::string prefix_text(const char* symbol, const std::string& e, int ep, int wrap_below)
{
    return symbol + parenthesize(e, ep < wrap_below);
}

inline std::string call_text(const char* name, std::initializer_list<std::string> args)
{
    std::string s = std::string(name) + "(";
    const char* sep = "";
    for (const std::string& a : args) {
        s += sep + a;
        sep = ", ";
    }
    return s + ")";
}

// A number as a formula writes it: 1.5[electron / adu], or the number alone without a unit.
inline std::string quantity_text(double v, const ccdx::unit& u)
{
    return u.is_dimensionless() ? number_text(v) : number_text(v) + "[" + to_string(u) + "]";
}

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


// A bare number (no unit of its own) takes the unit of what it meets: `raw - 100` is in adu.
template <class N, class = void>
struct has_bareness : std::false_type {};
template <class N>
struct has_bareness<N, std::void_t<decltype(std::declval<const N&>().is_bare())>> : std::true_type {};

template <class N>
bool is_bare(const N& n)
{
    if constexpr (has_bareness<N>::value)
        return n.is_bare();
    else
        return false;
}

// One detector per member of the protocol.
#define CCDX_NODE_MEMBER(name, ...)                                                              \
    template <class N, class = void>                                                             \
    struct name : std::false_type {};                                                            \
    template <class N>                                                                           \
    struct name<N, std::void_t<__VA_ARGS__>> : std::true_type {};
namespace protocol {
template <class N>
const N& node() noexcept;
using planes_visitor = void (*)(const plane_ref&);
CCDX_NODE_MEMBER(provides_value_type, typename N::value_type)
CCDX_NODE_MEMBER(provides_exact, decltype(bool{N::exact}))
CCDX_NODE_MEMBER(provides_precedence, decltype(int{N::precedence}))
CCDX_NODE_MEMBER(provides_shape, std::enable_if_t<std::is_same_v<decltype(node<N>().shape()), shape2>>)
CCDX_NODE_MEMBER(provides_unit, std::enable_if_t<std::is_convertible_v<decltype(node<N>().unit()), const ccdx::unit&>>)
CCDX_NODE_MEMBER(provides_has_variance, decltype(bool{node<N>().has_variance()}))
CCDX_NODE_MEMBER(provides_has_mask, decltype(bool{node<N>().has_mask()}))
CCDX_NODE_MEMBER(provides_to_string, std::enable_if_t<std::is_same_v<decltype(node<N>().to_string()), std::string>>)
CCDX_NODE_MEMBER(provides_first_header,
                 std::enable_if_t<std::is_same_v<decltype(node<N>().first_header()), const ccdx::header*>>)
CCDX_NODE_MEMBER(provides_add_cards, decltype(node<N>().add_cards(std::declval<ccdx::header&>())))
CCDX_NODE_MEMBER(provides_visit_planes, decltype(node<N>().visit_planes(planes_visitor{}, std::ptrdiff_t{}, std::ptrdiff_t{})))
CCDX_NODE_MEMBER(provides_load_batch, std::enable_if_t<std::is_same_v<
    decltype(node<N>().template load<true, true, xsimd::batch<float>>(0, 0)), part<xsimd::batch<float>>>>)
CCDX_NODE_MEMBER(provides_load_scalar,
                 std::enable_if_t<std::is_same_v<decltype(node<N>().template load<true, true, float>(0, 0)), part<float>>>)
CCDX_NODE_MEMBER(provides_test_batch, std::enable_if_t<std::is_same_v<
    decltype(node<N>().template test<xsimd::batch<float>>(0, 0)), condition_t<xsimd::batch<float>>>>)
CCDX_NODE_MEMBER(provides_test_scalar,
                 std::enable_if_t<std::is_same_v<decltype(node<N>().template test<float>(0, 0)), condition_t<float>>>)
}  // namespace protocol
#undef CCDX_NODE_MEMBER

// The members every node and every condition share.
template <class N>
inline constexpr bool has_common_members_v = protocol::provides_precedence<N>::value && protocol::provides_shape<N>::value &&
                                             protocol::provides_to_string<N>::value && protocol::provides_visit_planes<N>::value;

}  // namespace detail

// Whether N satisfies the node protocol (an array node) or the condition protocol.
template <class N>
inline constexpr bool is_node_v =
    std::is_base_of_v<expression, N> && detail::has_common_members_v<N> && detail::protocol::provides_value_type<N>::value &&
    detail::protocol::provides_exact<N>::value && detail::protocol::provides_unit<N>::value && detail::protocol::provides_has_variance<N>::value &&
    detail::protocol::provides_has_mask<N>::value && detail::protocol::provides_first_header<N>::value &&
    detail::protocol::provides_add_cards<N>::value && detail::protocol::provides_load_batch<N>::value &&
    detail::protocol::provides_load_scalar<N>::value;

template <class N>
inline constexpr bool is_condition_node_v = std::is_base_of_v<condition, N> && detail::has_common_members_v<N> &&
                                            detail::protocol::provides_test_batch<N>::value &&
                                            detail::protocol::provides_test_scalar<N>::value;

namespace detail {

// Fails to compile, naming the first member N lacks, unless N is a node or a condition.
template <class N>
constexpr bool check_node()
{
    using namespace protocol;
    constexpr bool cond = std::is_base_of_v<condition, N>;
    static_assert(cond || std::is_base_of_v<expression, N>,
                  "ccdx node protocol: a node derives from ccdx::expression (a condition from ccdx::condition)");
    static_assert(provides_precedence<N>::value, "ccdx node protocol: missing `static constexpr int precedence`");
    static_assert(provides_shape<N>::value, "ccdx node protocol: missing `shape2 shape() const`");
    static_assert(provides_to_string<N>::value, "ccdx node protocol: missing `std::string to_string() const`");
    static_assert(provides_visit_planes<N>::value,
                  "ccdx node protocol: missing `template <class F> void visit_planes(F&&, std::ptrdiff_t, std::ptrdiff_t) const`");
    if constexpr (cond) {
        static_assert(provides_test_batch<N>::value && provides_test_scalar<N>::value,
                      "ccdx node protocol: a condition is missing `template <class B> condition_t<B> test(std::size_t, std::size_t) const`");
    } else {
        static_assert(provides_value_type<N>::value, "ccdx node protocol: missing `using value_type` (the pixel type, or void)");
        static_assert(provides_exact<N>::value, "ccdx node protocol: missing `static constexpr bool exact`");
        static_assert(provides_unit<N>::value, "ccdx node protocol: missing `const unit& unit() const`");
        static_assert(provides_has_variance<N>::value, "ccdx node protocol: missing `bool has_variance() const`");
        static_assert(provides_has_mask<N>::value, "ccdx node protocol: missing `bool has_mask() const`");
        static_assert(provides_first_header<N>::value, "ccdx node protocol: missing `const header* first_header() const`");
        static_assert(provides_add_cards<N>::value, "ccdx node protocol: missing `void add_cards(header&) const`");
        static_assert(provides_load_batch<N>::value && provides_load_scalar<N>::value,
                      "ccdx node protocol: missing `template <bool V, bool M, class B> part<B> load(std::size_t, std::size_t) const`");
    }
    return true;
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


}  // namespace detail
}  // namespace ccdx
