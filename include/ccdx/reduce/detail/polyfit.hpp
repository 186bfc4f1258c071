#pragma once
// Least-squares polynomial fit of a sampled profile, evaluated back at its samples: the
// overscan model (ccdproc fits astropy's Polynomial1D with a linear least-squares fitter at
// the 0-based positions 0, 1, ..., n-1).
//
// The fitted values of a least-squares fit do not depend on the basis, so the positions are
// mapped to [-1, 1] and Chebyshev polynomials are used: the design matrix stays well
// conditioned for long profiles and high degrees, where raw powers of the index would not.
// The system is solved by Householder QR in double.

#include <cmath>
#include <cstddef>
#include <string>
#include <vector>

#include "ccdx/core/error.hpp"

namespace ccdx::detail {

// y[i] sampled at i = 0..n-1; non-finite samples are left out of the fit (the reference has
// no such rule: one NaN row there makes the whole model NaN). Returns the fitted values at
// every i.
inline std::vector<double> polynomial_fit(const std::vector<double>& y, unsigned degree)
{
    const std::size_t n = y.size();
    const std::size_t p = std::size_t(degree) + 1;
    const double half_span = n > 1 ? 0.5 * double(n - 1) : 1.0;
    auto basis = [&](std::size_t i, double* out) {  // T_0..T_degree at the mapped position
        const double t = (double(i) - half_span) / half_span;
        out[0] = 1.0;
        if (p > 1) out[1] = t;
        for (std::size_t k = 2; k < p; ++k) out[k] = 2.0 * t * out[k - 1] - out[k - 2];
    };

    std::vector<std::size_t> used;
    for (std::size_t i = 0; i < n; ++i)
        if (std::isfinite(y[i])) used.push_back(i);
    const std::size_t m = used.size();
    if (m < p)
        throw value_error("cannot fit a polynomial of degree " + std::to_string(degree) + " to " +
                          std::to_string(m) + " finite overscan values");

    // A (m x p, column-major) and b; QR by Householder reflections applied to both.
    std::vector<double> a(m * p), b(m);
    for (std::size_t r = 0; r < m; ++r) {
        std::vector<double> row(p);
        basis(used[r], row.data());
        for (std::size_t k = 0; k < p; ++k) a[k * m + r] = row[k];
        b[r] = y[used[r]];
    }
    for (std::size_t k = 0; k < p; ++k) {
        double* col = &a[k * m];
        double norm = 0;
        for (std::size_t r = k; r < m; ++r) norm += col[r] * col[r];
        norm = std::sqrt(norm);
        if (norm == 0) continue;
        const double alpha = col[k] > 0 ? -norm : norm;
        std::vector<double> v(col + k, col + m);
        v[0] -= alpha;
        double vv = 0;
        for (double x : v) vv += x * x;
        if (vv == 0) continue;
        auto reflect = [&](double* target) {
            double dot = 0;
            for (std::size_t r = k; r < m; ++r) dot += v[r - k] * target[r];
            const double f = 2.0 * dot / vv;
            for (std::size_t r = k; r < m; ++r) target[r] -= f * v[r - k];
        };
        for (std::size_t j = k; j < p; ++j) reflect(&a[j * m]);
        reflect(b.data());
    }
    // Back substitution R c = Q^T b.
    std::vector<double> c(p, 0.0);
    for (std::size_t k = p; k-- > 0;) {
        double s = b[k];
        for (std::size_t j = k + 1; j < p; ++j) s -= a[j * m + k] * c[j];
        const double diag = a[k * m + k];
        if (diag == 0)
            throw value_error("overscan fit of degree " + std::to_string(degree) +
                              " is degenerate (too few distinct positions)");
        c[k] = s / diag;
    }

    std::vector<double> fitted(n), row(p);
    for (std::size_t i = 0; i < n; ++i) {
        basis(i, row.data());
        double s = 0;
        for (std::size_t k = 0; k < p; ++k) s += c[k] * row[k];
        fitted[i] = s;
    }
    return fitted;
}

}  // namespace ccdx::detail
