#pragma once
// A reduction formula given at run time, e.g. "(raw - bias - dark * 0.3) / flat": parsed once
// (syntax errors name the column), then evaluated over named images in one pass of blocks, each
// node a SIMD kernel that carries value, variance and mask with the rules of propagation.hpp.
//
// Grammar:
//   sum     := product (('+' | '-') product)*
//   product := unary (('*' | '/') unary)*
//   unary   := ('-' | '+') unary | primary
//   primary := number ['[' unit ']'] | name | function '(' sum ')' | '(' sum ')'
// Functions: sqrt, abs, square (per pixel); mean, median (of their argument's pixels, NaN skipped:
// a scalar carrying the argument's unit, so flat / mean(flat) is dimensionless). A number may
// carry a unit in brackets: raw * 1.5[electron / adu]. Numbers and quantities are exact.

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <xsimd/xsimd.hpp>

#include "ccdx/core/detail/format.hpp"
#include "ccdx/core/error.hpp"
#include "ccdx/core/image.hpp"
#include "ccdx/core/statistics.hpp"
#include "ccdx/core/unit.hpp"
#include "ccdx/expr/detail/simd.hpp"
#include "ccdx/expr/propagation.hpp"

namespace ccdx {

// A formula that does not parse; column() is 1-based, in characters of the formula text.
class formula_error : public error {
public:
    formula_error(const std::string& message, std::size_t column)
        : error(message), column_(column)
    {}
    std::size_t column() const noexcept { return column_; }

private:
    std::size_t column_;
};

namespace detail::formula {

enum class kind { number, operand, negate, add, subtract, multiply, divide, sqrt, abs, square, mean, median };

struct node {
    kind k = kind::number;
    double value = 0;           // number
    std::string unit_text;      // number's unit, as written
    std::size_t operand = 0;    // operand index
    std::size_t column = 1;     // where the node starts, for errors found when binding
    std::unique_ptr<node> a, b;
};

inline int precedence(kind k)
{
    switch (k) {
    case kind::add:
    case kind::subtract: return 1;
    case kind::multiply:
    case kind::divide: return 2;
    case kind::negate: return 3;
    default: return 4;
    }
}

inline const char* function_name(kind k)
{
    switch (k) {
    case kind::sqrt: return "sqrt";
    case kind::abs: return "abs";
    case kind::square: return "square";
    case kind::mean: return "mean";
    case kind::median: return "median";
    default: return "";
    }
}

// Shortest text that reads back as the same double: 90, 0.3, 1e-05.
inline std::string number_text(double v) { return detail::format_double(v); }

class parser {
public:
    parser(std::string_view text, std::vector<std::string>& names) : text_(text), names_(names) {}

    std::unique_ptr<node> parse()
    {
        skip_space();
        if (pos_ == text_.size()) fail("the formula is empty", pos_);
        auto n = sum();
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

    bool accept(char c)
    {
        skip_space();
        if (pos_ < text_.size() && text_[pos_] == c) {
            ++pos_;
            return true;
        }
        return false;
    }

    static std::unique_ptr<node> make(kind k, std::size_t column, std::unique_ptr<node> a, std::unique_ptr<node> b = {})
    {
        auto n = std::make_unique<node>();
        n->k = k;
        n->column = column;
        n->a = std::move(a);
        n->b = std::move(b);
        return n;
    }

    std::unique_ptr<node> sum()
    {
        auto left = product();
        for (;;) {
            skip_space();
            const std::size_t at = pos_;
            if (accept('+'))
                left = make(kind::add, at + 1, std::move(left), product());
            else if (accept('-'))
                left = make(kind::subtract, at + 1, std::move(left), product());
            else
                return left;
        }
    }

    std::unique_ptr<node> product()
    {
        auto left = unary();
        for (;;) {
            skip_space();
            const std::size_t at = pos_;
            if (pos_ + 1 < text_.size() && text_[pos_] == '*' && text_[pos_ + 1] == '*')
                fail("'**' is not supported; use square(x) or x * x", pos_);
            if (accept('*'))
                left = make(kind::multiply, at + 1, std::move(left), unary());
            else if (accept('/'))
                left = make(kind::divide, at + 1, std::move(left), unary());
            else
                return left;
        }
    }

    std::unique_ptr<node> unary()
    {
        skip_space();
        const std::size_t at = pos_;
        if (accept('-')) return make(kind::negate, at + 1, unary());
        if (accept('+')) return unary();
        return primary();
    }

    std::unique_ptr<node> primary()
    {
        skip_space();
        const std::size_t at = pos_;
        if (pos_ == text_.size()) fail("expected an operand, found the end of the formula", pos_);
        const char c = text_[pos_];
        if (c == '(') {
            ++pos_;
            auto inner = sum();
            if (!accept(')')) expected_close(at);
            return inner;
        }
        if (std::isdigit(static_cast<unsigned char>(c)) || c == '.') return number();
        if (std::isalpha(static_cast<unsigned char>(c)) || c == '_') {
            std::size_t end = pos_;
            while (end < text_.size() && (std::isalnum(static_cast<unsigned char>(text_[end])) || text_[end] == '_')) ++end;
            const std::string name(text_.substr(pos_, end - pos_));
            pos_ = end;
            skip_space();
            if (pos_ < text_.size() && text_[pos_] == '(') {
                const kind f = function(name, at);
                const std::size_t open = pos_++;
                auto arg = sum();
                if (accept(',')) fail(name + "() takes one argument", pos_ - 1);
                if (!accept(')')) expected_close(open);
                return make(f, at + 1, std::move(arg));
            }
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

    [[noreturn]] void expected_close(std::size_t open)
    {
        skip_space();
        if (pos_ == text_.size()) fail("missing ')' for the '(' at column " + std::to_string(open + 1), pos_);
        fail("expected ')', found '" + std::string(1, text_[pos_]) + "'", pos_);
    }

    kind function(const std::string& name, std::size_t at) const
    {
        static const std::pair<const char*, kind> known[] = {{"sqrt", kind::sqrt},   {"abs", kind::abs},
                                                             {"square", kind::square}, {"mean", kind::mean},
                                                             {"median", kind::median}};
        for (const auto& [n, k] : known)
            if (name == n) return k;
        fail("unknown function '" + name + "' (known: sqrt, abs, square, mean, median)", at);
    }

    std::unique_ptr<node> number()
    {
        const std::size_t at = pos_;
        const std::string rest(text_.substr(pos_));
        char* end = nullptr;
        const double v = std::strtod(rest.c_str(), &end);
        if (end == rest.c_str()) fail("malformed number", at);
        pos_ += static_cast<std::size_t>(end - rest.c_str());
        auto n = std::make_unique<node>();
        n->k = kind::number;
        n->value = v;
        n->column = at + 1;
        if (pos_ < text_.size() && (std::isalpha(static_cast<unsigned char>(text_[pos_])) || text_[pos_] == '_'))
            fail("a number cannot run into a name; write a unit in brackets, e.g. 1.5[electron / adu]", pos_);
        skip_space();
        if (pos_ < text_.size() && text_[pos_] == '[') {
            const std::size_t open = pos_;
            const auto close = text_.find(']', pos_);
            if (close == std::string_view::npos) fail("missing ']' for the unit starting here", open);
            n->unit_text = std::string(text_.substr(open + 1, close - open - 1));
            try {
                (void)ccdx::unit(n->unit_text);
            } catch (const unit_error& e) {
                fail(std::string("bad unit: ") + e.what(), open + 1);
            }
            pos_ = close + 1;
        }
        return n;
    }

    std::string_view text_;
    std::vector<std::string>& names_;
    std::size_t pos_ = 0;
};

inline std::string print(const node& n, const std::vector<std::string>& names)
{
    switch (n.k) {
    case kind::number:
        return n.unit_text.empty() ? number_text(n.value) : number_text(n.value) + "[" + n.unit_text + "]";
    case kind::operand: return names[n.operand];
    case kind::negate: {
        const auto inner = print(*n.a, names);
        return precedence(n.a->k) < precedence(kind::negate) ? "-(" + inner + ")" : "-" + inner;
    }
    case kind::add:
    case kind::subtract:
    case kind::multiply:
    case kind::divide: {
        const int p = precedence(n.k);
        auto left = print(*n.a, names);
        auto right = print(*n.b, names);
        if (precedence(n.a->k) < p) left = "(" + left + ")";
        // a - (b + c), a / (b * c): the right side needs parentheses at equal precedence too.
        const bool strict = n.k == kind::subtract || n.k == kind::divide;
        if (precedence(n.b->k) < p || (strict && precedence(n.b->k) == p)) right = "(" + right + ")";
        const char* op = n.k == kind::add ? " + " : n.k == kind::subtract ? " - " : n.k == kind::multiply ? " * " : " / ";
        return left + op + right;
    }
    default: return std::string(function_name(n.k)) + "(" + print(*n.a, names) + ")";
    }
}

// A node bound to images: a block kernel, or a constant (exact scalar with a unit).
template <class T>
struct kernel {
    kind k = kind::number;
    bool constant = false;
    T k_value = 0;
    ccdx::unit unit;
    bool has_variance = false;
    bool has_mask = false;
    shape2 shape{0, 0};
    std::string label;                  // for shape errors: the operand name or the subformula
    const image<T>* leaf = nullptr;     // the operand image, for operand nodes
    std::unique_ptr<kernel> a, b;

    // Results of the last run over a block; point into the image for leaves.
    const T* value = nullptr;
    const T* variance = nullptr;
    const mask_t* mask = nullptr;
    std::vector<T> value_buf, variance_buf;
    std::vector<mask_t> mask_buf;
};

template <class T, class F>
inline void for_each_batch(std::size_t n, F&& f)
{
    using B = xsimd::batch<T>;
    constexpr std::size_t L = B::size;
    std::size_t i = 0;
    for (; i + L <= n; i += L) f(B{}, i);
    for (; i < n; ++i) f(T{}, i);
}

template <class T>
void run(kernel<T>& n, std::size_t offset, std::size_t count);

template <class T, class Op>
void run_binary(kernel<T>& n, std::size_t count)
{
    kernel<T>& a = *n.a;
    kernel<T>& b = *n.b;
    T* out = n.value_buf.data();
    T* var = n.has_variance ? n.variance_buf.data() : nullptr;
    if (a.constant) {
        const T k = a.k_value;
        const T* pb = b.value;
        const T* vb = b.variance;
        for_each_batch<T>(count, [&](auto tag, std::size_t i) {
            using B = decltype(tag);
            const B kb = detail::broadcast<B>(k);
            const B x = detail::load<B>(pb + i);
            detail::store(out + i, Op::value(kb, x));
            if (var) detail::store(var + i, Op::variance_exact_left(kb, x, detail::load<B>(vb + i)));
        });
    } else if (b.constant) {
        const T k = b.k_value;
        const T* pa = a.value;
        const T* va = a.variance;
        for_each_batch<T>(count, [&](auto tag, std::size_t i) {
            using B = decltype(tag);
            const B kb = detail::broadcast<B>(k);
            const B x = detail::load<B>(pa + i);
            detail::store(out + i, Op::value(x, kb));
            if (var) detail::store(var + i, Op::variance_exact_right(x, detail::load<B>(va + i), kb));
        });
    } else {
        const T* pa = a.value;
        const T* pb = b.value;
        const T* va = a.variance;
        const T* vb = b.variance;
        for_each_batch<T>(count, [&](auto tag, std::size_t i) {
            using B = decltype(tag);
            const B x = detail::load<B>(pa + i);
            const B y = detail::load<B>(pb + i);
            detail::store(out + i, Op::value(x, y));
            if (!var) return;
            // A side without uncertainty is exact: its terms are skipped, not multiplied by 0.
            if (va && vb)
                detail::store(var + i, Op::variance(x, detail::load<B>(va + i), y, detail::load<B>(vb + i)));
            else if (va)
                detail::store(var + i, Op::variance_exact_right(x, detail::load<B>(va + i), y));
            else
                detail::store(var + i, Op::variance_exact_left(x, y, detail::load<B>(vb + i)));
        });
    }
    if (n.has_mask) {
        mask_t* m = n.mask_buf.data();
        const mask_t* ma = a.mask;
        const mask_t* mb = b.mask;
        for (std::size_t i = 0; i < count; ++i) m[i] = static_cast<mask_t>((ma ? ma[i] : 0) | (mb ? mb[i] : 0));
    }
}

CCDX_INTRINSICS_BEGIN
template <class T, class Op>
void run_unary(kernel<T>& n, std::size_t count)
{
    const kernel<T>& a = *n.a;
    T* out = n.value_buf.data();
    T* var = n.has_variance ? n.variance_buf.data() : nullptr;
    const T* pa = a.value;
    const T* va = a.variance;
    for_each_batch<T>(count, [&](auto tag, std::size_t i) {
        using B = decltype(tag);
        const B x = detail::load<B>(pa + i);
        const B fx = Op::value(x);
        detail::store(out + i, fx);
        if (var) detail::store(var + i, Op::variance(x, fx, detail::load<B>(va + i)));
    });
    n.mask = a.mask;  // a unary node leaves the mask as it is
}
CCDX_INTRINSICS_END

template <class T>
void run(kernel<T>& n, std::size_t offset, std::size_t count)
{
    if (n.constant) return;
    if (n.k == kind::operand) {
        const image<T>& img = *n.leaf;
        n.value = img.data().data() + offset;
        if (img.has_uncertainty()) {
            const T* s = img.uncertainty().data() + offset;
            T* v = n.variance_buf.data();
            for (std::size_t i = 0; i < count; ++i) v[i] = s[i] * s[i];
            n.variance = v;
        }
        n.mask = img.has_mask() ? img.mask().data() + offset : nullptr;
        return;
    }
    run(*n.a, offset, count);
    if (n.b) run(*n.b, offset, count);
    n.value = n.value_buf.data();
    n.variance = n.has_variance ? n.variance_buf.data() : nullptr;
    n.mask = n.has_mask ? n.mask_buf.data() : nullptr;
    switch (n.k) {
    case kind::add: run_binary<T, ops::plus>(n, count); break;
    case kind::subtract: run_binary<T, ops::minus>(n, count); break;
    case kind::multiply: run_binary<T, ops::multiplies>(n, count); break;
    case kind::divide: run_binary<T, ops::divides>(n, count); break;
    case kind::negate: run_unary<T, ops::negate>(n, count); break;
    case kind::sqrt: run_unary<T, ops::square_root>(n, count); break;
    case kind::abs: run_unary<T, ops::absolute>(n, count); break;
    case kind::square: run_unary<T, ops::square>(n, count); break;
    default: break;
    }
}

template <class T>
void allocate(kernel<T>& n, std::size_t block)
{
    if (n.constant) return;
    if (n.k != kind::operand) n.value_buf.resize(block);
    if (n.has_variance) n.variance_buf.resize(block);
    if (n.has_mask && n.b) n.mask_buf.resize(block);  // unary nodes pass their operand's mask on
    if (n.a) allocate(*n.a, block);
    if (n.b) allocate(*n.b, block);
}

}  // namespace detail::formula

// A parsed formula over named image operands.
class formula {
public:
    explicit formula(std::string text) : text_(std::move(text))
    {
        root_ = detail::formula::parser(text_, names_).parse();
    }

    const std::string& text() const noexcept { return text_; }

    // The operand names, in order of first appearance.
    const std::vector<std::string>& operands() const noexcept { return names_; }

    // The formula with single spaces and only the parentheses it needs: "(raw - bias) / flat".
    std::string to_string() const { return detail::formula::print(*root_, names_); }

    // Evaluates over the named images (all of one shape) in blocks of `block` pixels. The result
    // has an uncertainty iff some operand has one, a mask iff some operand has one, and the
    // header of the first operand in the formula.
    template <class T>
    image<T> evaluate(const std::map<std::string, image<T>, std::less<>>& images, std::size_t block = 4096) const
    {
        namespace f = detail::formula;
        std::vector<const image<T>*> bound(names_.size(), nullptr);
        for (std::size_t i = 0; i < names_.size(); ++i) {
            const auto it = images.find(names_[i]);
            if (it == images.end())
                throw value_error("formula '" + text_ + "': no image given for operand '" + names_[i] + "'");
            bound[i] = &it->second;
        }
        auto k = bind<T>(*root_, bound, block);
        if (k->constant)
            throw value_error("formula '" + text_ + "' has no image operand outside mean() or median(): its value is " +
                              f::number_text(static_cast<double>(k->k_value)));
        block = std::max<std::size_t>(block, 64);
        f::allocate(*k, block);

        image<T> out(k->shape[0], k->shape[1], k->unit);
        T* value = out.data().data();
        typename image<T>::plane sigma;
        if (k->has_variance) sigma = image<T>::plane::from_shape({k->shape[0], k->shape[1]});
        typename image<T>::mask_plane mask;
        if (k->has_mask) mask = image<T>::mask_plane::from_shape({k->shape[0], k->shape[1]});

        const std::size_t total = k->shape[0] * k->shape[1];
        for (std::size_t offset = 0; offset < total; offset += block) {
            const std::size_t n = std::min(block, total - offset);
            f::run(*k, offset, n);
            std::copy(k->value, k->value + n, value + offset);
            if (k->has_variance) {
                T* s = sigma.data() + offset;
                for (std::size_t i = 0; i < n; ++i) s[i] = std::sqrt(k->variance[i]);
            }
            if (k->has_mask) std::copy(k->mask, k->mask + n, mask.data() + offset);
        }
        if (k->has_variance) out.set_uncertainty(std::move(sigma));
        if (k->has_mask) out.set_mask(std::move(mask));
        if (const image<T>* first = first_leaf(*k)) out.header() = first->header();
        return out;
    }

private:
    // The leftmost image the result is computed from (not one seen only through mean/median).
    template <class T>
    static const image<T>* first_leaf(const detail::formula::kernel<T>& k)
    {
        if (k.leaf) return k.leaf;
        for (const auto* child : {k.a.get(), k.b.get()})
            if (child)
                if (const image<T>* found = first_leaf(*child)) return found;
        return nullptr;
    }

    template <class T>
    std::unique_ptr<detail::formula::kernel<T>> bind(const detail::formula::node& n,
                                                     const std::vector<const image<T>*>& bound, std::size_t block) const
    {
        namespace f = detail::formula;
        auto k = std::make_unique<f::kernel<T>>();
        k->k = n.k;
        k->label = f::print(n, names_);
        switch (n.k) {
        case f::kind::number:
            k->constant = true;
            k->k_value = static_cast<T>(n.value);
            k->unit = n.unit_text.empty() ? ccdx::unit() : ccdx::unit(n.unit_text);
            return k;
        case f::kind::operand: {
            const image<T>& img = *bound[n.operand];
            k->leaf = &img;
            k->unit = img.unit();
            k->shape = img.shape();
            k->has_variance = img.has_uncertainty();
            k->has_mask = img.has_mask();
            return k;
        }
        case f::kind::mean:
        case f::kind::median: {
            const auto arg = bind<T>(*n.a, bound, block);
            k->constant = true;
            k->unit = arg->unit;
            k->k_value = static_cast<T>(arg->constant ? static_cast<double>(arg->k_value) : statistic(n, bound, block));
            return k;
        }
        default: break;
        }

        k->a = bind<T>(*n.a, bound, block);
        if (n.b) k->b = bind<T>(*n.b, bound, block);
        const auto& a = *k->a;
        const auto* b = k->b.get();

        // Units, checked when the formula is bound, as the expression engine checks them.
        switch (n.k) {
        case f::kind::add:
        case f::kind::subtract:
            if (a.unit != b->unit)
                throw unit_error("formula '" + text_ + "', column " + std::to_string(n.column) + ": cannot " +
                                 (n.k == f::kind::add ? "add" : "subtract") + " '" + ccdx::to_string(b->unit) + "' (" +
                                 b->label + ") " + (n.k == f::kind::add ? "to" : "from") + " '" + ccdx::to_string(a.unit) +
                                 "' (" + a.label + ")");
            k->unit = a.unit;
            break;
        case f::kind::multiply: k->unit = a.unit * b->unit; break;
        case f::kind::divide: k->unit = a.unit / b->unit; break;
        case f::kind::square: k->unit = a.unit.pow(2); break;
        case f::kind::sqrt:
            try {
                k->unit = a.unit.root(2);
            } catch (const unit_error& e) {
                throw unit_error("formula '" + text_ + "', column " + std::to_string(n.column) + ": sqrt(" + a.label +
                                 "): " + e.what());
            }
            break;
        default: k->unit = a.unit; break;
        }

        // Constants fold: exact scalars stay exact.
        if (a.constant && (!b || b->constant)) {
            const double x = a.k_value, y = b ? static_cast<double>(b->k_value) : 0.0;
            double v = 0;
            switch (n.k) {
            case f::kind::add: v = x + y; break;
            case f::kind::subtract: v = x - y; break;
            case f::kind::multiply: v = x * y; break;
            case f::kind::divide: v = x / y; break;
            case f::kind::negate: v = -x; break;
            case f::kind::sqrt: v = std::sqrt(x); break;
            case f::kind::abs: v = std::abs(x); break;
            case f::kind::square: v = x * x; break;
            default: break;
            }
            k->constant = true;
            k->k_value = static_cast<T>(v);
            k->a.reset();
            k->b.reset();
            return k;
        }

        if (b && !a.constant && !b->constant && a.shape != b->shape)
            throw shape_error("formula '" + text_ + "', column " + std::to_string(n.column) + ": shapes " +
                              ccdx::to_string(a.shape) + " (" + a.label + ") and " + ccdx::to_string(b->shape) + " (" + b->label +
                              ") differ");
        k->shape = a.constant ? b->shape : a.shape;
        k->has_variance = a.has_variance || (b && b->has_variance);
        k->has_mask = a.has_mask || (b && b->has_mask);
        return k;
    }

    // mean() or median() of a subformula's pixels, NaN skipped (all NaN gives NaN).
    template <class T>
    double statistic(const detail::formula::node& n, const std::vector<const image<T>*>& bound, std::size_t block) const
    {
        const image<T>* src = nullptr;
        image<T> tmp;
        if (n.a->k == detail::formula::kind::operand) {
            src = bound[n.a->operand];
        } else {
            std::map<std::string, image<T>, std::less<>> sub;
            formula inner(detail::formula::print(*n.a, names_));
            for (const auto& name : inner.operands()) sub.emplace(name, *bound[index_of(name)]);
            tmp = inner.evaluate(sub, block);
            src = &tmp;
        }
        return n.k == detail::formula::kind::mean ? ccdx::mean(*src) : ccdx::median(*src);
    }

    std::size_t index_of(const std::string& name) const
    {
        return static_cast<std::size_t>(std::find(names_.begin(), names_.end(), name) - names_.begin());
    }

    std::string text_;
    std::vector<std::string> names_;
    std::unique_ptr<detail::formula::node> root_;
};

inline std::string to_string(const formula& f) { return f.to_string(); }

}  // namespace ccdx
