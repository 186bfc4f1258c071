#pragma once
// A reduction formula given at run time, e.g. "(raw - bias - dark * 0.3) / flat": parsed once
// (syntax errors name the column), then evaluated over named images in blocks, each node a
// kernel over the block, on all threads. It follows the rule book of the C++ expressions, not
// one of its own: the unit rules (a bare number takes the unit of what it meets: `raw - 100` is
// in adu), shape checks, variance rules (propagation.hpp), precedence, printing and error
// messages are the ones the C++ nodes use, so a formula gives what the same formula written in
// C++ gives, pixel for pixel (bit for bit with -ffp-contract=off: otherwise the fused C++ pass
// may compute a * b + c with one rounding where a node-by-node formula rounds twice).
//
// Grammar:
//   formula    := or
//   or         := and ('||' and)*
//   and        := comparison ('&&' comparison)*
//   comparison := sum [('<' | '<=' | '>' | '>=' | '==' | '!=') sum]
//   sum        := product (('+' | '-') product)*
//   product    := unary (('*' | '/') unary)*
//   unary      := ('-' | '+' | '!') unary | primary
//   primary    := number ['[' unit ']'] | name | function '(' formula (',' formula)* ')' | '(' formula ')'
// Functions: sqrt, abs, square, min, max, clip(e, lo, hi), where(condition, a, b),
// mark(e, condition, bits), replace(e, condition, value), is_nan, is_masked (per pixel, as in
// C++); mean, median (of their argument's pixels, NaN skipped: a number carrying the argument's
// unit, so flat / mean(flat) is dimensionless). A number may carry a unit in brackets:
// raw * 1.5[electron / adu]. Numbers and quantities are exact.

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>
#include <utility>
#include <vector>

#include <xsimd/xsimd.hpp>

#include "ccdx/core/detail/format.hpp"
#include "ccdx/core/detail/threads.hpp"
#include "ccdx/core/error.hpp"
#include "ccdx/core/image.hpp"
#include "ccdx/core/statistics.hpp"
#include "ccdx/core/unit.hpp"
#include "ccdx/expr/evaluate.hpp"
#include "ccdx/expr/node.hpp"
#include "ccdx/expr/propagation.hpp"

namespace ccdx {

// A formula that does not parse; column() is 1-based, in characters of the formula text.
class formula_error : public error {
public:
    formula_error(const std::string& message, std::size_t column) : error(message), column_(column) {}
    std::size_t column() const noexcept { return column_; }

private:
    std::size_t column_;
};

namespace detail::formula {

enum class kind {
    number, operand,
    negate, sqrt, abs, square, mean, median, is_nan, is_masked, logical_not,
    add, subtract, multiply, divide, minimum, maximum,
    less, less_equal, greater, greater_equal, equal, not_equal, logical_and, logical_or,
    clip, where, mark, replace
};

struct function_info {
    const char* name;
    kind k;
    std::size_t arguments;
};

inline constexpr function_info functions[] = {
    {"sqrt", kind::sqrt, 1},       {"abs", kind::abs, 1},         {"square", kind::square, 1},
    {"mean", kind::mean, 1},       {"median", kind::median, 1},   {"is_nan", kind::is_nan, 1},
    {"is_masked", kind::is_masked, 1}, {"min", kind::minimum, 2}, {"max", kind::maximum, 2},
    {"clip", kind::clip, 3},       {"where", kind::where, 3},     {"mark", kind::mark, 3},
    {"replace", kind::replace, 3}};

inline const char* function_name(kind k)
{
    for (const auto& f : functions)
        if (f.k == k) return f.name;
    return "";
}

inline bool is_condition(kind k)
{
    switch (k) {
    case kind::less: case kind::less_equal: case kind::greater: case kind::greater_equal: case kind::equal:
    case kind::not_equal: case kind::logical_and: case kind::logical_or: case kind::logical_not:
    case kind::is_nan: case kind::is_masked: return true;
    default: return false;
    }
}

inline const char* symbol(kind k)
{
    switch (k) {
    case kind::add: return ops::plus::symbol;
    case kind::subtract: return ops::minus::symbol;
    case kind::multiply: return ops::multiplies::symbol;
    case kind::divide: return ops::divides::symbol;
    case kind::less: return ops::less::symbol;
    case kind::less_equal: return ops::less_equal::symbol;
    case kind::greater: return ops::greater::symbol;
    case kind::greater_equal: return ops::greater_equal::symbol;
    case kind::equal: return ops::equal::symbol;
    case kind::not_equal: return ops::not_equal::symbol;
    case kind::logical_and: return "&&";
    case kind::logical_or: return "||";
    default: return "";
    }
}

// The C++ nodes' precedence (node.hpp, propagation.hpp), so both print alike.
inline int precedence_of(kind k)
{
    switch (k) {
    case kind::add: case kind::subtract: return ops::plus::precedence;
    case kind::multiply: case kind::divide: return ops::multiplies::precedence;
    case kind::negate: case kind::logical_not: return detail::precedence::prefix;
    case kind::less: case kind::less_equal: case kind::greater: case kind::greater_equal: case kind::equal:
    case kind::not_equal: return detail::precedence::comparison;
    case kind::logical_and: return detail::precedence::logical_and;
    case kind::logical_or: return detail::precedence::logical_or;
    default: return detail::precedence::primary;
    }
}

struct node {
    kind k = kind::number;
    double value = 0;             // number
    bool has_unit = false;        // number written with [unit]
    ccdx::unit unit;              // number's unit
    std::size_t operand = 0;      // operand index
    std::size_t column = 1;       // where the node starts, for errors found when binding
    std::vector<std::unique_ptr<node>> args;
};

// Parentheses nest at most this deep: the parser recurses through them.
inline constexpr std::size_t max_nesting = 500;

class parser {
public:
    parser(std::string_view text, std::vector<std::string>& names) : text_(text), names_(names) {}

    std::unique_ptr<node> parse()
    {
        skip_space();
        if (pos_ == text_.size()) fail("the formula is empty", pos_);
        auto n = disjunction();
        skip_space();
        if (pos_ != text_.size()) fail("unexpected '" + std::string(1, text_[pos_]) + "' after a complete expression", pos_);
        return n;
    }

private:
    [[noreturn]] void fail(const std::string& what, std::size_t at) const
    {
        throw formula_error("formula '" + std::string(text_) + "', column " + std::to_string(at + 1) + ": " + what, at + 1);
    }

    void skip_space()
    {
        while (pos_ < text_.size() && std::isspace(static_cast<unsigned char>(text_[pos_]))) ++pos_;
    }

    // Accepts `token` unless it is the start of a longer one in `longer` ("<" of "<=").
    bool accept(std::string_view token, std::string_view not_followed_by = "")
    {
        skip_space();
        if (text_.substr(pos_, token.size()) != token) return false;
        if (pos_ + token.size() < text_.size() && !not_followed_by.empty() &&
            not_followed_by.find(text_[pos_ + token.size()]) != std::string_view::npos)
            return false;
        pos_ += token.size();
        return true;
    }

    static std::unique_ptr<node> make(kind k, std::size_t column, std::unique_ptr<node> a, std::unique_ptr<node> b = {})
    {
        auto n = std::make_unique<node>();
        n->k = k;
        n->column = column;
        n->args.push_back(std::move(a));
        if (b) n->args.push_back(std::move(b));
        return n;
    }

    template <class Next>
    std::unique_ptr<node> left_chain(Next next, std::initializer_list<std::pair<std::string_view, kind>> operators)
    {
        auto left = (this->*next)();
        for (;;) {
            skip_space();
            const std::size_t at = pos_;
            bool found = false;
            for (const auto& [token, k] : operators) {
                if (accept(token, token == "*" ? "*" : "")) {
                    left = make(k, at + 1, std::move(left), (this->*next)());
                    found = true;
                    break;
                }
            }
            if (!found) return left;
        }
    }

    std::unique_ptr<node> disjunction() { return left_chain(&parser::conjunction, {{"||", kind::logical_or}}); }
    std::unique_ptr<node> conjunction() { return left_chain(&parser::comparison, {{"&&", kind::logical_and}}); }

    std::unique_ptr<node> comparison()
    {
        static constexpr std::pair<std::string_view, kind> operators[] = {
            {"<=", kind::less_equal}, {">=", kind::greater_equal}, {"==", kind::equal}, {"!=", kind::not_equal},
            {"<", kind::less},        {">", kind::greater}};
        auto left = sum();
        for (const auto& [token, k] : operators) {
            skip_space();
            const std::size_t at = pos_;
            if (!accept(token)) continue;
            auto n = make(k, at + 1, std::move(left), sum());
            skip_space();
            for (const auto& [again, unused] : operators) {
                (void)unused;
                if (text_.substr(pos_, again.size()) == again)
                    fail("comparisons do not chain; join them with && or ||", pos_);
            }
            return n;
        }
        return left;
    }

    std::unique_ptr<node> sum() { return left_chain(&parser::product, {{"+", kind::add}, {"-", kind::subtract}}); }

    std::unique_ptr<node> product()
    {
        skip_space();
        return left_chain(&parser::unary, {{"*", kind::multiply}, {"/", kind::divide}});
    }

    std::unique_ptr<node> unary()
    {
        skip_space();
        const std::size_t at = pos_;
        if (pos_ + 1 < text_.size() && text_[pos_] == '*' && text_[pos_ + 1] == '*')
            fail("'**' is not supported; use square(x) or x * x", pos_);
        if (accept("-")) return make(kind::negate, at + 1, nested(&parser::unary));
        if (accept("!", "=")) return make(kind::logical_not, at + 1, nested(&parser::unary));
        if (accept("+")) return nested(&parser::unary);
        auto p = primary();
        skip_space();
        if (pos_ + 1 < text_.size() && text_[pos_] == '*' && text_[pos_ + 1] == '*')
            fail("'**' is not supported; use square(x) or x * x", pos_);
        return p;
    }

    // One level deeper: a limit keeps a hostile formula from overflowing the stack.
    std::unique_ptr<node> nested(std::unique_ptr<node> (parser::*rule)())
    {
        if (++depth_ > max_nesting) fail("nested more than " + std::to_string(max_nesting) + " levels deep", pos_);
        auto n = (this->*rule)();
        --depth_;
        return n;
    }

    std::unique_ptr<node> primary()
    {
        skip_space();
        const std::size_t at = pos_;
        if (pos_ == text_.size()) fail("expected an operand, found the end of the formula", pos_);
        const char c = text_[pos_];
        if (c == '(') {
            ++pos_;
            auto inner = nested(&parser::disjunction);
            if (!accept(")")) expected_close(at);
            return inner;
        }
        if (std::isdigit(static_cast<unsigned char>(c)) || c == '.') return number();
        if (std::isalpha(static_cast<unsigned char>(c)) || c == '_') {
            std::size_t end = pos_;
            while (end < text_.size() && (std::isalnum(static_cast<unsigned char>(text_[end])) || text_[end] == '_')) ++end;
            const std::string name(text_.substr(pos_, end - pos_));
            pos_ = end;
            skip_space();
            if (pos_ < text_.size() && text_[pos_] == '(') return call(name, at);
            auto n = std::make_unique<node>();
            n->k = kind::operand;
            n->column = at + 1;
            const auto it = std::find(names_.begin(), names_.end(), name);
            n->operand = static_cast<std::size_t>(it - names_.begin());
            if (it == names_.end()) names_.push_back(name);
            return n;
        }
        fail("expected an operand, found '" + std::string(1, c) + "'", pos_);
    }

    std::unique_ptr<node> call(const std::string& name, std::size_t at)
    {
        const function_info* f = nullptr;
        for (const auto& known : functions)
            if (name == known.name) f = &known;
        if (!f) {
            std::string list;
            for (const auto& known : functions) list += std::string(list.empty() ? "" : ", ") + known.name;
            fail("unknown function '" + name + "' (known: " + list + ")", at);
        }
        const std::size_t open = pos_++;
        auto n = std::make_unique<node>();
        n->k = f->k;
        n->column = at + 1;
        const std::string takes = name + "() takes " + std::to_string(f->arguments) + " argument" + (f->arguments > 1 ? "s" : "");
        n->args.push_back(nested(&parser::disjunction));
        while (accept(",")) {
            if (n->args.size() == f->arguments) fail(takes, pos_ - 1);
            n->args.push_back(nested(&parser::disjunction));
        }
        if (n->args.size() < f->arguments) {
            skip_space();
            fail(takes + ", not " + std::to_string(n->args.size()), pos_);
        }
        if (!accept(")")) expected_close(open);
        return n;
    }

    [[noreturn]] void expected_close(std::size_t open)
    {
        skip_space();
        if (pos_ == text_.size()) fail("missing ')' for the '(' at column " + std::to_string(open + 1), pos_);
        fail("expected ')', found '" + std::string(1, text_[pos_]) + "'", pos_);
    }

    std::unique_ptr<node> number()
    {
        const std::size_t at = pos_;
        std::size_t end = pos_;
        while (end < text_.size() && (std::isdigit(static_cast<unsigned char>(text_[end])) || text_[end] == '.')) ++end;
        if (end < text_.size() && (text_[end] == 'e' || text_[end] == 'E')) {
            std::size_t e = end + 1;
            if (e < text_.size() && (text_[e] == '+' || text_[e] == '-')) ++e;
            if (e < text_.size() && std::isdigit(static_cast<unsigned char>(text_[e]))) {
                while (e < text_.size() && std::isdigit(static_cast<unsigned char>(text_[e]))) ++e;
                end = e;
            }
        }
        auto n = std::make_unique<node>();
        n->k = kind::number;
        n->column = at + 1;
        // from_chars: the same number whatever the locale.
        const auto [ptr, ec] = std::from_chars(text_.data() + pos_, text_.data() + end, n->value);
        if (ec == std::errc::result_out_of_range) fail("number out of range", at);
        if (ec != std::errc{} || ptr != text_.data() + end) fail("malformed number", at);
        pos_ = end;
        if (pos_ < text_.size() && (std::isalpha(static_cast<unsigned char>(text_[pos_])) || text_[pos_] == '_'))
            fail("a number cannot run into a name; write a unit in brackets, e.g. 1.5[electron / adu]", pos_);
        skip_space();
        if (pos_ < text_.size() && text_[pos_] == '[') {
            const std::size_t open = pos_;
            const auto close = text_.find(']', pos_);
            if (close == std::string_view::npos) fail("missing ']' for the unit starting here", open);
            try {
                n->unit = ccdx::unit(std::string(text_.substr(open + 1, close - open - 1)));
            } catch (const unit_error& e) {
                fail(std::string("bad unit: ") + e.what(), open + 1);
            }
            n->has_unit = true;
            pos_ = close + 1;
        }
        return n;
    }

    std::string_view text_;
    std::vector<std::string>& names_;
    std::size_t pos_ = 0;
    std::size_t depth_ = 0;
};

// The formula as the C++ nodes print it (node.hpp's rules).
inline std::string print(const node& n, const std::vector<std::string>& names)
{
    const auto arg = [&](std::size_t i) { return print(*n.args[i], names); };
    const auto prec = [&](std::size_t i) { return precedence_of(n.args[i]->k); };
    switch (n.k) {
    case kind::number: return n.has_unit ? quantity_text(n.value, n.unit) : number_text(n.value);
    case kind::operand: return names[n.operand];
    case kind::negate: return prefix_text("-", arg(0), prec(0), detail::precedence::primary);
    case kind::logical_not: return prefix_text("!", arg(0), prec(0), detail::precedence::prefix);
    case kind::add: case kind::subtract: case kind::multiply: case kind::divide: case kind::logical_and:
    case kind::logical_or: return infix_text(arg(0), prec(0), symbol(n.k), precedence_of(n.k), arg(1), prec(1));
    case kind::less: case kind::less_equal: case kind::greater: case kind::greater_equal: case kind::equal:
    case kind::not_equal:
        return infix_text(arg(0), prec(0), symbol(n.k), precedence_of(n.k), arg(1), prec(1), /*chains=*/false);
    default: break;
    }
    std::string s = std::string(function_name(n.k)) + "(";
    for (std::size_t i = 0; i < n.args.size(); ++i) s += (i ? ", " : "") + arg(i);
    return s + ")";
}

// A parse node bound to images: what it computes, known before any pixel is read.
template <class T>
struct kernel {
    const node* source = nullptr;       // printed only when an error names it
    kind k = kind::number;
    std::size_t id = 0;                 // its buffers in a workspace
    bool constant = false, bare = false, condition = false, has_variance = false, has_mask = false;
    double k_value = 0;                 // a constant's value
    ccdx::unit unit;
    shape2 shape{any_extent, any_extent};
    const image<T>* leaf = nullptr;     // operand nodes
    double lo = 0, hi = 0;              // clip
    mask_t bits = 0;                    // mark
    std::vector<std::unique_ptr<kernel>> args;
};

// One node's results over the current block; pointers into the image for leaves.
template <class T>
struct block_view {
    const T* value = nullptr;
    const T* variance = nullptr;
    const mask_t* mask = nullptr;
    const std::uint8_t* test = nullptr;
};

// One thread's buffers, one set per node, and each node's results over the current block.
template <class T>
struct workspace {
    struct buffers {
        std::vector<T> value, variance;
        std::vector<mask_t> mask;
        std::vector<std::uint8_t> test;
    };
    std::vector<buffers> nodes;
    std::vector<block_view<T>> views;
    // The root writes straight into the result's planes at the block's offset.
    std::size_t root = 0;
    T* out_value = nullptr;
    T* out_variance = nullptr;
    mask_t* out_mask = nullptr;
};

// The nodes that compute, children before parents: the pass walks this list, not the tree, so
// that a formula of ten thousand terms does not take ten thousand stack frames.
template <class T>
std::vector<const kernel<T>*> post_order(const kernel<T>& root)
{
    std::vector<const kernel<T>*> order, pending{&root};
    while (!pending.empty()) {
        const kernel<T>* k = pending.back();
        pending.pop_back();
        if (k->constant) continue;
        order.push_back(k);
        for (const auto& a : k->args) pending.push_back(a.get());
    }
    std::reverse(order.begin(), order.end());
    return order;
}

template <class T, class F>
inline void for_each_batch(std::size_t n, F&& f)
{
    using B = xsimd::batch<T>;
    constexpr std::size_t L = B::size;
    std::size_t i = 0;
    for (; i + L <= n; i += L) f(B{}, i);
    for (; i < n; ++i) f(T{}, i);
}

CCDX_INTRINSICS_BEGIN
// a Op b with C++'s choice of variance rule: an operand without uncertainty contributes no term.
// Which operands are numbers and which carry a variance is decided once per block, not per batch.
template <class T, class Op, bool ConstA, bool ConstB, int Variance>  // 0 none, 1 both, 2 a only, 3 b only
void arithmetic_loop(const block_view<T>& a, const block_view<T>& b, T ca, T cb, T* out, T* var, std::size_t count)
{
    for_each_batch<T>(count, [&](auto tag, std::size_t i) {
        using B = decltype(tag);
        B x, y;
        if constexpr (ConstA) x = detail::broadcast<B>(ca); else x = detail::load<B>(a.value + i);
        if constexpr (ConstB) y = detail::broadcast<B>(cb); else y = detail::load<B>(b.value + i);
        detail::store(out + i, Op::value(x, y));
        if constexpr (Variance == 1)
            detail::store(var + i, Op::variance(x, detail::load<B>(a.variance + i), y, detail::load<B>(b.variance + i)));
        else if constexpr (Variance == 2)
            detail::store(var + i, Op::variance_exact_right(x, detail::load<B>(a.variance + i), y));
        else if constexpr (Variance == 3)
            detail::store(var + i, Op::variance_exact_left(x, y, detail::load<B>(b.variance + i)));
    });
}

template <class T, class Op>
void run_arithmetic(const kernel<T>& n, const block_view<T>& a, const block_view<T>& b, const kernel<T>& ka,
                    const kernel<T>& kb, T* out, T* var, std::size_t count)
{
    const T ca = static_cast<T>(ka.k_value), cb = static_cast<T>(kb.k_value);
    const int variance = !n.has_variance ? 0 : a.variance && b.variance ? 1 : a.variance ? 2 : 3;
    const auto with = [&](auto const_a, auto const_b) {
        constexpr bool A = decltype(const_a)::value, C = decltype(const_b)::value;
        switch (variance) {
        case 0: arithmetic_loop<T, Op, A, C, 0>(a, b, ca, cb, out, var, count); break;
        case 1: arithmetic_loop<T, Op, A, C, 1>(a, b, ca, cb, out, var, count); break;
        case 2: arithmetic_loop<T, Op, A, C, 2>(a, b, ca, cb, out, var, count); break;
        default: arithmetic_loop<T, Op, A, C, 3>(a, b, ca, cb, out, var, count); break;
        }
    };
    // Both numbers cannot happen: those fold when the formula is bound.
    if (ka.constant)
        with(std::true_type{}, std::false_type{});
    else if (kb.constant)
        with(std::false_type{}, std::true_type{});
    else
        with(std::false_type{}, std::false_type{});
}

template <class T, class Op>
void run_function(const kernel<T>& n, const block_view<T>& a, T* out, T* var, std::size_t count)
{
    for_each_batch<T>(count, [&](auto tag, std::size_t i) {
        using B = decltype(tag);
        const B x = detail::load<B>(a.value + i);
        const B fx = Op::value(x);
        detail::store(out + i, fx);
        if (n.has_variance) detail::store(var + i, Op::variance(x, fx, detail::load<B>(a.variance + i)));
    });
}
CCDX_INTRINSICS_END

// An operand's value, variance (0 without uncertainty, as a C++ node's part) and mask at i.
template <class T>
struct reader {
    const kernel<T>& k;
    const block_view<T>& v;
    T value(std::size_t i) const { return k.constant ? static_cast<T>(k.k_value) : v.value[i]; }
    T variance(std::size_t i) const { return v.variance ? v.variance[i] : T(0); }
    mask_t mask(std::size_t i) const { return v.mask ? v.mask[i] : mask_t(0); }
};

// One node over the block, its operands' results already in the workspace.
template <class T>
block_view<T> run(const kernel<T>& n, workspace<T>& ws, std::size_t offset, std::size_t count)
{
    block_view<T> out;
    auto& buf = ws.nodes[n.id];
    if (n.k == kind::operand) {
        const image<T>& img = *n.leaf;
        out.value = img.data().data() + offset;
        if (img.has_uncertainty()) {
            const T* s = img.uncertainty().data() + offset;
            for (std::size_t i = 0; i < count; ++i) buf.variance[i] = s[i] * s[i];
            out.variance = buf.variance.data();
        }
        out.mask = img.has_mask() ? img.mask().data() + offset : nullptr;
        return out;
    }

    block_view<T> v[3];
    for (std::size_t i = 0; i < n.args.size(); ++i) v[i] = ws.views[n.args[i]->id];
    const auto arg = [&](std::size_t i) { return reader<T>{*n.args[i], v[i]}; };
    const bool root = n.id == ws.root;
    T* value = root ? ws.out_value : buf.value.data();
    T* var = n.has_variance ? (root ? ws.out_variance : buf.variance.data()) : nullptr;
    mask_t* mask = root && ws.out_mask ? ws.out_mask : buf.mask.data();
    std::uint8_t* test = buf.test.data();
    out.value = n.condition ? nullptr : value;
    out.variance = var;
    out.test = n.condition ? test : nullptr;
    // The mask: the operand's own where nothing changes it, the OR of both for two operands.
    out.mask = n.has_mask ? mask : nullptr;
    const auto or_masks = [&](std::size_t x, std::size_t y) {
        const mask_t *a = v[x].mask, *b = v[y].mask;
        if (a && b)
            for (std::size_t i = 0; i < count; ++i) mask[i] = static_cast<mask_t>(a[i] | b[i]);
        else if (a || b)
            std::copy(a ? a : b, (a ? a : b) + count, mask);
    };
    const auto pass_mask = [&](std::size_t x) { out.mask = v[x].mask; };

    switch (n.k) {
    case kind::add: run_arithmetic<T, ops::plus>(n, v[0], v[1], *n.args[0], *n.args[1], value, var, count); or_masks(0, 1); break;
    case kind::subtract: run_arithmetic<T, ops::minus>(n, v[0], v[1], *n.args[0], *n.args[1], value, var, count); or_masks(0, 1); break;
    case kind::multiply: run_arithmetic<T, ops::multiplies>(n, v[0], v[1], *n.args[0], *n.args[1], value, var, count); or_masks(0, 1); break;
    case kind::divide: run_arithmetic<T, ops::divides>(n, v[0], v[1], *n.args[0], *n.args[1], value, var, count); or_masks(0, 1); break;
    case kind::negate: run_function<T, ops::negate>(n, v[0], value, var, count); pass_mask(0); break;
    case kind::sqrt: run_function<T, ops::square_root>(n, v[0], value, var, count); pass_mask(0); break;
    case kind::abs: run_function<T, ops::absolute>(n, v[0], value, var, count); pass_mask(0); break;
    case kind::square: run_function<T, ops::square>(n, v[0], value, var, count); pass_mask(0); break;
    case kind::minimum:
    case kind::maximum: {
        // Keep a unless b is strictly beyond it (and a is not NaN, which propagates), as extremum does.
        const auto a = arg(0), b = arg(1);
        const bool max = n.k == kind::maximum;
        for (std::size_t i = 0; i < count; ++i) {
            const T x = a.value(i), y = b.value(i);
            const bool take_b = !std::isnan(x) && (max ? y > x : y < x);
            value[i] = take_b ? y : x;
            if (var) var[i] = take_b ? b.variance(i) : a.variance(i);
        }
        or_masks(0, 1);
        break;
    }
    case kind::clip: {
        const auto a = arg(0);
        const T lo = static_cast<T>(n.lo), hi = static_cast<T>(n.hi);
        for (std::size_t i = 0; i < count; ++i) {
            const T x = a.value(i);
            const bool below = x < lo, above = x > hi;
            value[i] = below ? lo : above ? hi : x;
            if (var) var[i] = below || above ? T(0) : a.variance(i);
        }
        pass_mask(0);
        break;
    }
    case kind::where: {
        const auto a = arg(1), b = arg(2);
        const std::uint8_t* t = v[0].test;
        for (std::size_t i = 0; i < count; ++i) {
            value[i] = t[i] ? a.value(i) : b.value(i);
            if (var) var[i] = t[i] ? a.variance(i) : b.variance(i);
            if (n.has_mask) mask[i] = t[i] ? a.mask(i) : b.mask(i);
        }
        break;
    }
    case kind::mark:
    case kind::replace: {
        const auto a = arg(0);
        const std::uint8_t* t = v[1].test;
        const T replacement = static_cast<T>(n.k_value);
        for (std::size_t i = 0; i < count; ++i) {
            value[i] = n.k == kind::replace && t[i] ? replacement : a.value(i);
            if (var) var[i] = a.variance(i);
        }
        if (n.k == kind::mark)
            for (std::size_t i = 0; i < count; ++i) mask[i] = static_cast<mask_t>(a.mask(i) | (t[i] ? n.bits : 0));
        else
            pass_mask(0);
        break;
    }
    case kind::less: case kind::less_equal: case kind::greater: case kind::greater_equal: case kind::equal:
    case kind::not_equal: {
        const auto a = arg(0), b = arg(1);
        for (std::size_t i = 0; i < count; ++i) {
            const T x = a.value(i), y = b.value(i);
            bool r = false;
            switch (n.k) {
            case kind::less: r = ops::less::test(x, y); break;
            case kind::less_equal: r = ops::less_equal::test(x, y); break;
            case kind::greater: r = ops::greater::test(x, y); break;
            case kind::greater_equal: r = ops::greater_equal::test(x, y); break;
            case kind::equal: r = ops::equal::test(x, y); break;
            default: r = ops::not_equal::test(x, y); break;
            }
            test[i] = r;
        }
        break;
    }
    case kind::logical_and:
    case kind::logical_or: {
        const std::uint8_t *a = v[0].test, *b = v[1].test;
        for (std::size_t i = 0; i < count; ++i) test[i] = n.k == kind::logical_and ? (a[i] && b[i]) : (a[i] || b[i]);
        break;
    }
    case kind::logical_not:
        for (std::size_t i = 0; i < count; ++i) test[i] = !v[0].test[i];
        break;
    case kind::is_nan: {
        const auto a = arg(0);
        for (std::size_t i = 0; i < count; ++i) test[i] = std::isnan(a.value(i));
        break;
    }
    case kind::is_masked: {
        const auto a = arg(0);
        for (std::size_t i = 0; i < count; ++i) test[i] = a.mask(i) != 0;
        break;
    }
    default: break;
    }
    return out;
}

template <class T>
void allocate(const std::vector<const kernel<T>*>& order, std::size_t node_count, workspace<T>& ws, std::size_t block)
{
    ws.nodes.resize(node_count);
    ws.views.resize(node_count);
    for (const kernel<T>* n : order) {
        auto& b = ws.nodes[n->id];
        if (n->k == kind::operand) {
            if (n->has_variance) b.variance.resize(block);
        } else if (n->condition) {
            b.test.resize(block);
        } else {
            b.value.resize(block);
            if (n->has_variance) b.variance.resize(block);
            if (n->has_mask) b.mask.resize(block);
        }
    }
}

// The leftmost image an array's value comes from (conditions and mean/median give none), as
// the C++ nodes' first_header().
template <class T>
const image<T>* first_leaf(const kernel<T>& root)
{
    std::vector<const kernel<T>*> pending{&root};
    while (!pending.empty()) {
        const kernel<T>* k = pending.back();
        pending.pop_back();
        if (k->leaf) return k->leaf;
        if (k->condition) continue;
        for (auto a = k->args.rbegin(); a != k->args.rend(); ++a) pending.push_back(a->get());
    }
    return nullptr;
}

CCDX_INTRINSICS_BEGIN
// Evaluates an array kernel of fixed shape into an image, in blocks spread over the threads.
template <class T>
image<T> evaluate_kernel(const kernel<T>& k, std::size_t node_count, std::size_t block, int threads)
{
    // Every node keeps a block of its own: a formula of many nodes gets smaller blocks.
    constexpr std::size_t buffer_budget = std::size_t(64) << 20;  // bytes per thread
    block = std::max<std::size_t>(std::min(block, buffer_budget / (node_count * (2 * sizeof(T) + 2))), 64);
    // Planes left unfilled: the threads that compute the blocks touch their pages first.
    image<T> out(image<T>::plane::from_shape({k.shape[0], k.shape[1]}), k.unit);
    T* value = out.data().data();
    typename image<T>::plane sigma;
    if (k.has_variance) sigma = image<T>::plane::from_shape({k.shape[0], k.shape[1]});
    typename image<T>::mask_plane mask;
    if (k.has_mask) mask = image<T>::mask_plane::from_shape({k.shape[0], k.shape[1]});

    const std::size_t total = k.shape[0] * k.shape[1];
    const auto blocks = static_cast<std::ptrdiff_t>((total + block - 1) / block);
    const std::vector<const kernel<T>*> order = post_order(k);
    const auto pass = [&](workspace<T>& ws, std::ptrdiff_t b) {
        const std::size_t offset = static_cast<std::size_t>(b) * block, n = std::min(block, total - offset);
        ws.out_value = value + offset;
        ws.out_variance = k.has_variance ? sigma.data() + offset : nullptr;
        ws.out_mask = k.has_mask ? mask.data() + offset : nullptr;
        for (const kernel<T>* step : order) ws.views[step->id] = run(*step, ws, offset, n);
        const block_view<T> r = ws.views[k.id];
        // What the root passed on from an operand (a leaf, a mask kept) is copied.
        if (r.value != value + offset) std::copy(r.value, r.value + n, value + offset);
        if (k.has_variance) {
            T* s = sigma.data() + offset;
            if (r.variance != s) std::copy(r.variance, r.variance + n, s);
            for_each_batch<T>(n, [&](auto tag, std::size_t i) {
                using B = decltype(tag);
                detail::store(s + i, square_root(detail::load<B>(s + i)));
            });
        }
        if (k.has_mask && r.mask != mask.data() + offset) std::copy(r.mask, r.mask + n, mask.data() + offset);
    };
    const int used = total >= parallel_threshold ? thread_count(threads) : 1;
#ifdef CCDX_USE_OPENMP
#pragma omp parallel num_threads(used)
#endif
    {
        workspace<T> ws;
        allocate(order, node_count, ws, block);
        ws.root = k.id;
#ifdef CCDX_USE_OPENMP
#pragma omp for schedule(static)
#endif
        for (std::ptrdiff_t b = 0; b < blocks; ++b) pass(ws, b);
    }
    (void)used;
    if (k.has_variance) out.set_uncertainty(std::move(sigma));
    if (k.has_mask) out.set_mask(std::move(mask));
    if (const image<T>* first = first_leaf(k)) out.header() = first->header();
    return out;
}
CCDX_INTRINSICS_END

}  // namespace detail::formula

// A parsed formula over named image operands.
class formula {
public:
    explicit formula(std::string text) : text_(std::move(text)) { root_ = detail::formula::parser(text_, names_).parse(); }

    const std::string& text() const noexcept { return text_; }

    // The operand names, in order of first appearance.
    const std::vector<std::string>& operands() const noexcept { return names_; }

    // The formula as the same expression written in C++ prints: "(raw - bias) / flat".
    std::string to_string() const { return detail::formula::print(*root_, names_); }

    // Evaluates over the named images (all of one shape) in blocks of `block` pixels, on the
    // threads `options` allows. The result has an uncertainty iff some operand used has one, a
    // mask iff some has one (or mark() sets one), and the header of the first image operand.
    template <class T>
    image<T> evaluate(const std::map<std::string, image<T>, std::less<>>& images, const eval_options& options = {},
                      std::size_t block = 4096) const
    {
        std::vector<const image<T>*> bound(names_.size(), nullptr);
        for (std::size_t i = 0; i < names_.size(); ++i) {
            const auto it = images.find(names_[i]);
            if (it == images.end())
                throw value_error("formula '" + text_ + "': no image given for operand '" + names_[i] + "'");
            bound[i] = &it->second;
        }
        binder<T> b{*this, bound, block, options.threads};
        auto k = b.bind(*root_);
        if (k->condition)
            throw value_error("formula '" + text_ + "' is a condition, not an image: use it in where(), mark() or replace()");
        if (k->constant)
            throw value_error("formula '" + text_ + "' has no image operand outside mean() or median(): its value is " +
                              detail::number_text(k->k_value));
        return detail::formula::evaluate_kernel(*k, b.count, block, options.threads);
    }

private:
    template <class T>
    struct binder {
        const formula& f;
        const std::vector<const image<T>*>& bound;
        std::size_t block;
        int threads;
        std::size_t count = 0;  // nodes numbered so far

        using kernel = detail::formula::kernel<T>;
        using kind = detail::formula::kind;

        std::string text(const detail::formula::node& n) const { return detail::formula::print(n, f.names_); }

        // A node's text, printed only when an error names it (printing every node would cost
        // the square of the formula's length).
        struct described {
            const binder& b;
            const detail::formula::node& n;
            std::string to_string() const { return b.text(n); }
        };

        // A rule of the C++ nodes broken: the same message, after the formula and column.
        template <class E>
        [[noreturn]] void rethrow(const detail::formula::node& n, const E& e) const
        {
            throw E("formula '" + f.text_ + "', column " + std::to_string(n.column) + ": " + e.what());
        }

        [[noreturn]] void misuse(const detail::formula::node& n, const std::string& what) const
        {
            throw formula_error("formula '" + f.text_ + "', column " + std::to_string(n.column) + ": " + what, n.column);
        }

        const kernel& want(const kernel& k, bool condition, const detail::formula::node& parent) const
        {
            if (k.condition != condition)
                misuse(parent, text(*k.source) + (condition ? " is not a condition, where " : " is a condition, where ") +
                                   text(parent) + " needs " + (condition ? "one" : "an image or a number"));
            return k;
        }

        double number(const kernel& k, const detail::formula::node& parent, const char* what) const
        {
            if (!k.constant || k.condition) misuse(parent, std::string(what) + " of " + text(parent) + " must be a number");
            return k.k_value;
        }

        std::unique_ptr<kernel> bind(const detail::formula::node& n)
        {
            auto k = std::make_unique<kernel>();
            k->source = &n;
            k->k = n.k;
            k->id = count++;
            k->condition = detail::formula::is_condition(n.k);
            switch (n.k) {
            case kind::number:
                k->constant = true;
                k->bare = !n.has_unit;
                k->k_value = n.value;
                k->unit = n.unit;
                return k;
            case kind::operand: {
                const image<T>& img = *bound[n.operand];
                k->leaf = &img;
                k->unit = img.unit();
                k->shape = img.shape();
                k->has_variance = img.has_uncertainty();
                k->has_mask = img.has_mask();
                return k;
            }
            default: break;
            }
            for (const auto& a : n.args) k->args.push_back(bind(*a));
            try {
                rules(n, *k);
            } catch (const unit_error& e) {
                rethrow(n, e);
            } catch (const shape_error& e) {
                rethrow(n, e);
            } catch (const value_error& e) {
                rethrow(n, e);
            }
            return k;
        }

        // Units, shapes, uncertainty and mask of a node from its operands, by the C++ nodes' rules.
        void rules(const detail::formula::node& n, kernel& k)
        {
            const auto& a = *k.args[0];
            const kernel* b = k.args.size() > 1 ? k.args[1].get() : nullptr;
            const auto common_unit = [&](const kernel& x, const kernel& y) {
                return detail::same_unit(x.unit, x.bare, y.unit, y.bare, described{*this, *x.source},
                                         described{*this, *y.source});
            };
            const auto shape_of = [&](const kernel& x, const kernel& y) {
                return detail::broadcast_shapes(x.shape, y.shape, described{*this, *x.source}, described{*this, *y.source});
            };
            switch (n.k) {
            case kind::add: case kind::subtract: case kind::multiply: case kind::divide:
            case kind::minimum: case kind::maximum:
                want(a, false, n);
                want(*b, false, n);
                k.unit = n.k == kind::multiply ? a.unit * b->unit
                         : n.k == kind::divide ? a.unit / b->unit
                                               : common_unit(a, *b);
                k.shape = shape_of(a, *b);
                k.has_variance = a.has_variance || b->has_variance;
                k.has_mask = a.has_mask || b->has_mask;
                if (a.constant && b->constant) fold(n, k, a.k_value, b->k_value, a.bare && b->bare);
                return;
            case kind::negate: case kind::sqrt: case kind::abs: case kind::square:
                want(a, false, n);
                k.unit = n.k == kind::square ? a.unit * a.unit : n.k == kind::sqrt ? a.unit.root(2) : a.unit;
                k.shape = a.shape;
                k.has_variance = a.has_variance;
                k.has_mask = a.has_mask;
                if (a.constant) fold(n, k, a.k_value, 0, a.bare);
                return;
            case kind::mean: case kind::median: {
                want(a, false, n);
                k.constant = true;
                k.unit = a.unit;
                if (a.constant) {
                    k.k_value = a.k_value;
                } else {
                    const image<T> pixels = detail::formula::evaluate_kernel(a, count, block, threads);
                    k.k_value = n.k == kind::mean ? ccdx::mean(pixels) : ccdx::median(pixels);
                }
                k.args.clear();
                return;
            }
            case kind::clip:
                want(a, false, n);
                k.lo = number(*k.args[1], n, "the lower bound");
                k.hi = number(*k.args[2], n, "the upper bound");
                if (!(k.lo <= k.hi)) throw value_error("clip bounds out of order in " + text(n));
                k.unit = a.unit;
                k.shape = a.shape;
                k.has_variance = a.has_variance;
                k.has_mask = a.has_mask;
                k.args.resize(1);
                return;
            case kind::where: {
                want(a, true, n);
                const kernel& x = want(*k.args[1], false, n);
                const kernel& y = want(*k.args[2], false, n);
                k.shape = detail::broadcast_shapes(a.shape, shape_of(x, y), described{*this, *a.source}, "its operands");
                k.unit = common_unit(x, y);
                k.has_variance = x.has_variance || y.has_variance;
                k.has_mask = x.has_mask || y.has_mask;
                return;
            }
            case kind::mark: case kind::replace: {
                want(a, false, n);
                const kernel& c = want(*b, true, n);
                const double v = number(*k.args[2], n, n.k == kind::mark ? "the mask bits" : "the value");
                if (n.k == kind::mark) {
                    if (v == 0) throw value_error(text(n) + " with no mask bits");
                    if (!(v >= 1 && v <= 255 && v == std::floor(v)))
                        misuse(n, "the mask bits of " + text(n) + " must be a whole number from 1 to 255");
                    k.bits = static_cast<mask_t>(v);
                }
                k.k_value = v;
                shape_of(a, c);  // checked; the result has e's shape
                k.shape = a.shape;
                k.unit = a.unit;
                k.has_variance = a.has_variance;
                k.has_mask = n.k == kind::mark || a.has_mask;
                k.args.resize(2);
                return;
            }
            case kind::less: case kind::less_equal: case kind::greater: case kind::greater_equal: case kind::equal:
            case kind::not_equal:
                want(a, false, n);
                want(*b, false, n);
                common_unit(a, *b);  // comparing adu with electron is an error
                k.shape = shape_of(a, *b);
                return;
            case kind::logical_and: case kind::logical_or:
                want(a, true, n);
                want(*b, true, n);
                k.shape = shape_of(a, *b);
                return;
            case kind::logical_not: case kind::is_nan: case kind::is_masked:
                want(a, n.k == kind::logical_not, n);
                k.shape = a.shape;
                return;
            default: return;
            }
        }

        // Exact numbers fold into one, computed in double as C++ computes its literals.
        void fold(const detail::formula::node& n, kernel& k, double x, double y, bool bare)
        {
            double v = 0;
            switch (n.k) {
            case kind::add: v = x + y; break;
            case kind::subtract: v = x - y; break;
            case kind::multiply: v = x * y; break;
            case kind::divide: v = x / y; break;
            case kind::minimum: v = std::isnan(x) || !(y < x) ? x : y; break;
            case kind::maximum: v = std::isnan(x) || !(y > x) ? x : y; break;
            case kind::negate: v = -x; break;
            case kind::sqrt: v = std::sqrt(x); break;
            case kind::abs: v = std::abs(x); break;
            case kind::square: v = x * x; break;
            default: break;
            }
            k.constant = true;
            k.bare = bare;
            k.k_value = v;
            k.args.clear();
        }
    };

    std::string text_;
    std::vector<std::string> names_;
    std::unique_ptr<detail::formula::node> root_;
};

inline std::string to_string(const formula& f) { return f.to_string(); }

}  // namespace ccdx
