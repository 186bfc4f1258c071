// The single pass: SIMD body and scalar tail on awkward shapes, strided views, aliasing,
// threads, and a randomized differential test against a plain double-precision evaluation.

#include <doctest/doctest.h>

#include <cmath>
#include <random>
#include <string>

#include <ccdx/ccdx.hpp>

using namespace ccdx;

namespace {

std::mt19937 rng(20261125);

// Values in +-[0.5, 10], away from 0 so that quotients stay well conditioned; dimensionless, so
// that any tree of them is well formed.
image<float> random_image(std::size_t rows, std::size_t cols, bool with_sigma, bool with_mask, const char* name)
{
    std::uniform_real_distribution<float> mag(0.5f, 10.f), sig(0.f, 2.f);
    std::bernoulli_distribution negative(0.3), flagged(0.1);
    std::uniform_int_distribution<int> bit(0, 7);
    image<float> img(rows, cols);
    for (auto& v : img.data()) v = negative(rng) ? -mag(rng) : mag(rng);
    if (with_sigma) {
        auto s = image<float>::plane::from_shape({rows, cols});
        for (auto& v : s) v = sig(rng);
        img.set_uncertainty(std::move(s));
    }
    if (with_mask) {
        auto m = image<float>::mask_plane::from_shape({rows, cols});
        for (auto& v : m) v = flagged(rng) ? mask_t(1u << bit(rng)) : mask_t(0);
        img.set_mask(std::move(m));
    }
    img.set_name(name);
    return img;
}

// The reference: one pixel in double precision, with the DESIGN table's formulas written out.
struct ref {
    double v = 0, var = 0;
    unsigned mask = 0;
};

ref pixel(const image<float>& img, std::size_t r, std::size_t c)
{
    ref p{img.data()(r, c), 0, 0};
    if (img.has_uncertainty()) p.var = double(img.uncertainty()(r, c)) * img.uncertainty()(r, c);
    if (img.has_mask()) p.mask = img.mask()(r, c);
    return p;
}

ref apply(int op, const ref& a, const ref& b)
{
    switch (op) {
    case 0: return {a.v + b.v, a.var + b.var, a.mask | b.mask};
    case 1: return {a.v - b.v, a.var + b.var, a.mask | b.mask};
    case 2: return {a.v * b.v, a.var * b.v * b.v + b.var * a.v * a.v, a.mask | b.mask};
    default: {
        const double q = a.v / b.v;
        return {q, (a.var + b.var * q * q) / (b.v * b.v), a.mask | b.mask};
    }
    }
}

template <class F>
void with_op(int op, F&& f)
{
    switch (op) {
    case 0: f(ops::plus{}); break;
    case 1: f(ops::minus{}); break;
    case 2: f(ops::multiplies{}); break;
    default: f(ops::divides{}); break;
    }
}

template <class Op, class A, class B>
auto combine(Op, A&& a, B&& b)
{
    if constexpr (std::is_same_v<Op, ops::plus>)
        return std::forward<A>(a) + std::forward<B>(b);
    else if constexpr (std::is_same_v<Op, ops::minus>)
        return std::forward<A>(a) - std::forward<B>(b);
    else if constexpr (std::is_same_v<Op, ops::multiplies>)
        return std::forward<A>(a) * std::forward<B>(b);
    else
        return std::forward<A>(a) / std::forward<B>(b);
}

template <class F>
void check_against(const image<float>& got, bool expect_sigma, bool expect_mask, F&& reference)
{
    REQUIRE(got.has_uncertainty() == expect_sigma);
    REQUIRE(got.has_mask() == expect_mask);
    std::size_t bad_values = 0, bad_sigmas = 0, bad_masks = 0;
    for (std::size_t r = 0; r < got.rows(); ++r)
        for (std::size_t c = 0; c < got.cols(); ++c) {
            const ref e = reference(r, c);
            // float against double: a few float ulps of every intermediate.
            if (std::abs(got.data()(r, c) - e.v) > 2e-5 * (std::abs(e.v) + 10)) ++bad_values;
            if (expect_sigma) {
                const double s = std::sqrt(e.var);
                if (std::abs(got.uncertainty()(r, c) - s) > 2e-5 * (s + 10)) ++bad_sigmas;
            }
            if (expect_mask && got.mask()(r, c) != e.mask) ++bad_masks;
        }
    CHECK(bad_values == 0);
    CHECK(bad_sigmas == 0);
    CHECK(bad_masks == 0);
}

const shape2 awkward_shapes[] = {{1, 1}, {1, 17}, {37, 53}, {3, 1000}, {5, 31}, {16, 16}};

}  // namespace

TEST_CASE("the formula on shapes that are not a multiple of the SIMD width")
{
    for (const shape2& s : awkward_shapes) {
        CAPTURE(to_string(s));
        const image<float> raw = random_image(s[0], s[1], true, true, "raw");
        const image<float> bias = random_image(s[0], s[1], true, false, "bias");
        const image<float> dark = random_image(s[0], s[1], false, true, "dark");
        const image<float> flat = random_image(s[0], s[1], true, true, "flat");
        const image<float> out = (raw - bias - dark * 0.3f) / flat;
        check_against(out, true, true, [&](std::size_t r, std::size_t c) {
            const ref k{double(0.3f), 0, 0};
            return apply(3, apply(1, apply(1, pixel(raw, r, c), pixel(bias, r, c)), apply(2, pixel(dark, r, c), k)),
                         pixel(flat, r, c));
        });
    }
}

TEST_CASE("values only: no uncertainty or mask is made")
{
    const image<float> a = random_image(7, 45, false, false, "a");
    const image<float> b = random_image(7, 45, false, false, "b");
    const image<float> out = a * b - 2;
    CHECK_FALSE(out.has_uncertainty());
    CHECK_FALSE(out.has_mask());
    check_against(out, false, false, [&](std::size_t r, std::size_t c) {
        return apply(1, apply(2, pixel(a, r, c), pixel(b, r, c)), ref{2, 0, 0});
    });
}

TEST_CASE("views at odd offsets read in place")
{
    const image<float> big = random_image(50, 70, true, true, "big");
    const image<float> small = random_image(37, 53, true, false, "small");
    // x 4..56, y 3..39 (1-based, inclusive): rows 2..38, columns 3..55
    const section s = parse_section("[4:56,3:39]", big.rows(), big.cols());
    const image<float> out = view(big, s) * 2 - small;
    REQUIRE(out.shape() == shape2{37, 53});
    check_against(out, true, true, [&](std::size_t r, std::size_t c) {
        return apply(1, apply(2, pixel(big, r + 2, c + 3), ref{2, 0, 0}), pixel(small, r, c));
    });

    // A window of an expression reads the same pixels as the expression of windows.
    const image<float> other = random_image(50, 70, false, true, "other");
    const image<float> a = view(big - other, s);
    const image<float> b = view(big, s) - view(other, s);
    CHECK(a.data() == b.data());
    CHECK(a.uncertainty() == b.uncertainty());
    CHECK(a.mask() == b.mask());

    // Reversed ranges read backwards.
    const image<float> flipped = view(big, parse_section("[70:1,50:1]", big.rows(), big.cols()));
    CHECK(flipped.data()(0, 0) == big.data()(49, 69));
    CHECK(flipped.data()(49, 0) == big.data()(0, 69));
    CHECK(flipped.uncertainty()(3, 5) == big.uncertainty()(46, 64));
    CHECK(flipped.mask()(7, 9) == big.mask()(42, 60));

    CHECK_THROWS_AS(view(big, section{{0, 51, false}, {0, 10, false}}), section_error);
}

TEST_CASE("aliasing: a = a - b is safe, and so is reading the destination at another offset")
{
    image<float> a = random_image(9, 33, true, true, "a");
    const image<float> b = random_image(9, 33, true, true, "b");
    const image<float> before = a;
    const float* buffer = a.data().data();
    a = a - b;
    CHECK(a.data().data() == buffer);  // evaluated in place
    check_against(a, true, true, [&](std::size_t r, std::size_t c) { return apply(1, pixel(before, r, c), pixel(b, r, c)); });

    // Rows reversed: every pixel reads a row the pass may already have written.
    image<float> c = random_image(9, 33, true, true, "c");
    const image<float> c0 = c;
    c = view(c, parse_section("[*,9:1]", 9, 33)) + 1;
    for (std::size_t r = 0; r < 9; ++r)
        for (std::size_t k = 0; k < 33; ++k) {
            CHECK(c.data()(r, k) == c0.data()(8 - r, k) + 1);
            CHECK(c.mask()(r, k) == c0.mask()(8 - r, k));
        }

    // A smaller window of itself: the result has another shape.
    image<float> d = random_image(9, 33, false, false, "d");
    const image<float> d0 = d;
    d = view(d, parse_section("[2:33,2:9]", 9, 33)) * 2;
    REQUIRE(d.shape() == shape2{8, 32});
    CHECK(d.data()(0, 0) == 2 * d0.data()(1, 1));
    CHECK(d.data()(7, 31) == 2 * d0.data()(8, 32));

    // The destination's mask is read and written in place.
    image<float> m = random_image(4, 40, false, true, "m");
    const image<float> m0 = m;
    m = mark(m, m > 5, 128);
    for (std::size_t i = 0; i < m.size(); ++i)
        CHECK(m.mask().data()[i] == (m0.mask().data()[i] | (m0.data().data()[i] > 5 ? 128 : 0)));
}

TEST_CASE("float and double")
{
    const image<float> f = random_image(3, 19, true, true, "f");
    image<double> d(3, 19);
    for (std::size_t i = 0; i < d.size(); ++i) d.data().data()[i] = 0.1 * double(i);
    auto mixed = eval(f + d);
    static_assert(std::is_same_v<decltype(mixed), image<double>>);
    CHECK(mixed.data()(2, 18) == doctest::Approx(double(f.data()(2, 18)) + 0.1 * 56));
    image<double> promoted = eval<double>(f * 3);
    CHECK(promoted.uncertainty()(1, 1) == doctest::Approx(3.0 * f.uncertainty()(1, 1)));
}

TEST_CASE("threads give the same bits as one thread")
{
    const image<float> raw = random_image(300, 1000, true, true, "raw");
    const image<float> flat = random_image(300, 1000, true, true, "flat");
    auto formula = (raw - 3) / flat;
    const image<float> one = eval(formula, eval_options{1});
    const image<float> many = eval(formula, eval_options{2});
    CHECK(one.data() == many.data());
    CHECK(one.uncertainty() == many.uncertainty());
    CHECK(one.mask() == many.mask());
}

TEST_CASE("randomized differential test against a double-precision evaluation")
{
    std::uniform_int_distribution<int> pick_op(0, 3), pick_shape(0, 5);
    std::bernoulli_distribution coin(0.5);
    for (int trial = 0; trial < 12; ++trial) {
        const shape2 s = awkward_shapes[pick_shape(rng)];
        const image<float> A = random_image(s[0], s[1], coin(rng), coin(rng), "A");
        const image<float> B = random_image(s[0], s[1], coin(rng), coin(rng), "B");
        const image<float> C = random_image(s[0], s[1], coin(rng), coin(rng), "C");
        const double k = std::uniform_real_distribution<double>(0.5, 4)(rng);
        const bool sigma = A.has_uncertainty() || B.has_uncertainty() || C.has_uncertainty();
        const bool mask = A.has_mask() || B.has_mask() || C.has_mask();
        const int op1 = pick_op(rng), op2 = pick_op(rng);
        CAPTURE(trial);
        CAPTURE(op1);
        CAPTURE(op2);

        // (A op1 B) op2 (C * k)
        with_op(op1, [&](auto o1) {
            with_op(op2, [&](auto o2) {
                const image<float> got = combine(o2, combine(o1, A, B), C * k);
                check_against(got, sigma, mask, [&](std::size_t r, std::size_t c) {
                    return apply(op2, apply(op1, pixel(A, r, c), pixel(B, r, c)), apply(2, pixel(C, r, c), ref{k, 0, 0}));
                });
            });
        });

        // where(A > B, sqrt(abs(A)) op1 C, min(B, C) - k)
        with_op(op1, [&](auto o1) {
            const image<float> got = where(A > B, combine(o1, sqrt(abs(A)), C), min(B, C) - k);
            check_against(got, sigma, mask, [&](std::size_t r, std::size_t c) {
                const ref a = pixel(A, r, c), b = pixel(B, r, c), cc = pixel(C, r, c);
                if (a.v > b.v) {
                    const double root = std::sqrt(std::abs(a.v));
                    return apply(op1, ref{root, a.var / (4 * std::abs(a.v)), a.mask}, cc);
                }
                const ref lo = cc.v < b.v ? ref{cc.v, cc.var, b.mask | cc.mask} : ref{b.v, b.var, b.mask | cc.mask};
                return apply(1, lo, ref{k, 0, 0});
            });
        });

        // mark(clip(A, -k, k) op1 -B, C > 0, 64)
        with_op(op1, [&](auto o1) {
            const image<float> got = mark(combine(o1, clip(A, -k, k), -B), C > 0, 64);
            check_against(got, sigma && (A.has_uncertainty() || B.has_uncertainty()), true,
                          [&](std::size_t r, std::size_t c) {
                              ref a = pixel(A, r, c);
                              if (a.v < -k || a.v > k) a = {a.v < -k ? -k : k, 0, a.mask};
                              ref b = pixel(B, r, c);
                              b.v = -b.v;
                              ref out = apply(op1, a, b);
                              if (C.data()(r, c) > 0) out.mask |= 64;
                              return out;
                          });
        });
    }
}
