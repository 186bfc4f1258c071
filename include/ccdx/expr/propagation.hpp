#pragma once
// The variance rules, in one place: first order, operands uncorrelated, as astropy's
// StdDevUncertainty propagates them. Each operation gives the value and, given the operands'
// values and variances, the result's variance. `exact` variants are for an operand known to
// carry no uncertainty at all (a scalar, a quantity, a profile): they skip the terms that would
// be 0 times something, which also keeps 0*inf from turning a finite variance into NaN.

#include <xsimd/xsimd.hpp>

#include "ccdx/expr/detail/batch_ops.hpp"

namespace ccdx::ops {

// a ± b: va + vb
struct additive {
    static constexpr int precedence = 1;
    template <class B>
    static B variance(const B&, const B& va, const B&, const B& vb) noexcept { return va + vb; }
    template <class B>
    static B variance_exact_right(const B&, const B& va, const B&) noexcept { return va; }
    template <class B>
    static B variance_exact_left(const B&, const B&, const B& vb) noexcept { return vb; }
};

struct plus : additive {
    static constexpr const char* symbol = "+";
    template <class B>
    static B value(const B& a, const B& b) noexcept { return a + b; }
};

struct minus : additive {
    static constexpr const char* symbol = "-";
    template <class B>
    static B value(const B& a, const B& b) noexcept { return a - b; }
};

// (a b): va b² + vb a²
struct multiplies {
    static constexpr const char* symbol = "*";
    static constexpr int precedence = 2;
    template <class B>
    static B value(const B& a, const B& b) noexcept { return a * b; }
    template <class B>
    static B variance(const B& a, const B& va, const B& b, const B& vb) noexcept
    {
        return va * (b * b) + vb * (a * a);
    }
    template <class B>
    static B variance_exact_right(const B&, const B& va, const B& k) noexcept { return va * (k * k); }
    template <class B>
    static B variance_exact_left(const B& k, const B&, const B& vb) noexcept { return vb * (k * k); }
};

// (a / b): (va b² + vb a²) / b⁴, astropy's form: it stays finite where a = 0, and at b = 0
// gives inf, or NaN where the numerator is 0 too, exactly as the reference does.
struct divides {
    static constexpr const char* symbol = "/";
    static constexpr int precedence = 2;
    template <class B>
    static B value(const B& a, const B& b) noexcept { return a / b; }
    template <class B>
    static B variance(const B& a, const B& va, const B& b, const B& vb) noexcept
    {
        const B b2 = b * b;
        return (va * b2 + vb * (a * a)) / (b2 * b2);
    }
    template <class B>
    static B variance_exact_right(const B&, const B& va, const B& k) noexcept { return va / (k * k); }
    template <class B>
    static B variance_exact_left(const B& k, const B& b, const B& vb) noexcept
    {
        const B b2 = b * b;
        return vb * (k * k) / (b2 * b2);
    }
};

// Unary functions: f(a) with variance f'(a)² va.
struct negate {
    static constexpr const char* name = "-";
    template <class B>
    static B value(const B& a) noexcept { return -a; }
    template <class B>
    static B variance(const B&, const B&, const B& va) noexcept { return va; }
};

struct square_root {
    static constexpr const char* name = "sqrt";
    template <class B>
    static B value(const B& a) noexcept { return detail::square_root(a); }
    // d sqrt(a) = da / (2 sqrt(a)): variance va / (4 a)
    template <class B>
    static B variance(const B& a, const B&, const B& va) noexcept { return va / (B(4) * a); }
};

struct absolute {
    static constexpr const char* name = "abs";
    template <class B>
    static B value(const B& a) noexcept { return xsimd::abs(a); }
    template <class B>
    static B variance(const B&, const B&, const B& va) noexcept { return va; }
};

struct square {
    static constexpr const char* name = "square";
    template <class B>
    static B value(const B& a) noexcept { return a * a; }
    template <class B>
    static B variance(const B& a, const B&, const B& va) noexcept { return B(4) * (a * a) * va; }
};

// Comparisons, for conditions.
struct less {
    static constexpr const char* symbol = "<";
    template <class B>
    static auto test(const B& a, const B& b) noexcept { return a < b; }
};
struct less_equal {
    static constexpr const char* symbol = "<=";
    template <class B>
    static auto test(const B& a, const B& b) noexcept { return a <= b; }
};
struct greater {
    static constexpr const char* symbol = ">";
    template <class B>
    static auto test(const B& a, const B& b) noexcept { return a > b; }
};
struct greater_equal {
    static constexpr const char* symbol = ">=";
    template <class B>
    static auto test(const B& a, const B& b) noexcept { return a >= b; }
};
struct equal {
    static constexpr const char* symbol = "==";
    template <class B>
    static auto test(const B& a, const B& b) noexcept { return a == b; }
};
struct not_equal {
    static constexpr const char* symbol = "!=";
    template <class B>
    static auto test(const B& a, const B& b) noexcept { return a != b; }
};

}  // namespace ccdx::ops
