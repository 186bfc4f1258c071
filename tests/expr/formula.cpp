#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <functional>
#include <limits>
#include <map>
#include <string>
#include <typeinfo>

#include <ccdx/ccdx.hpp>
#include <ccdx/expr/formula.hpp>

namespace {

using images = std::map<std::string, ccdx::image<double>, std::less<>>;

ccdx::image<double> make(std::initializer_list<double> values, std::size_t rows, std::size_t cols, const char* unit = "adu")
{
    ccdx::image<double> img(rows, cols, ccdx::unit(unit));
    std::size_t i = 0;
    for (double v : values) img.data().data()[i++] = v;
    return img;
}

void set_sigma(ccdx::image<double>& img, std::initializer_list<double> sigma)
{
    auto s = xt::xtensor<double, 2>::from_shape({img.rows(), img.cols()});
    std::size_t i = 0;
    for (double v : sigma) s.data()[i++] = v;
    img.set_uncertainty(std::move(s));
}

// The column a syntax error points at, checking the message says the same.
std::size_t error_column(const std::string& text)
{
    try {
        ccdx::formula f(text);
    } catch (const ccdx::formula_error& e) {
        CHECK(std::string(e.what()).find("column " + std::to_string(e.column())) != std::string::npos);
        return e.column();
    }
    FAIL("'" << text << "' parsed");
    return 0;
}

}  // namespace

TEST_CASE("a formula prints with single spaces and only the parentheses it needs")
{
    CHECK(ccdx::formula("(raw-bias-dark*0.3)/flat").to_string() == "(raw - bias - dark * 0.3) / flat");
    CHECK(ccdx::formula("((a*b))/c").to_string() == "a * b / c");
    CHECK(ccdx::formula("a/(b*c)").to_string() == "a / (b * c)");
    CHECK(ccdx::formula("a-(b-c)").to_string() == "a - (b - c)");
    CHECK(ccdx::formula("(a-b)-c").to_string() == "a - b - c");
    CHECK(ccdx::formula("-(a+b)*2").to_string() == "-(a + b) * 2");
    CHECK(ccdx::formula("raw * 1.5 [electron / adu]").to_string() == "raw * 1.5[electron / adu]");
    CHECK(ccdx::formula("(raw - bias)/(flat/mean(flat))").to_string() == "(raw - bias) / (flat / mean(flat))");
    CHECK(ccdx::formula("x * 1e-3").to_string() == "x * 0.001");
    CHECK(ccdx::formula("x * 90 + 1e-5 + 100000").to_string() == "x * 90 + 1e-05 + 100000");
}

TEST_CASE("operands are listed once, in order of first appearance")
{
    const ccdx::formula f("(raw - bias) / (flat / median(flat)) + raw * 0");
    REQUIRE(f.operands().size() == 3);
    CHECK(f.operands()[0] == "raw");
    CHECK(f.operands()[1] == "bias");
    CHECK(f.operands()[2] == "flat");
}

TEST_CASE("syntax errors point at the column")
{
    CHECK(error_column("(raw - bias") == 12);       // end of text: the ')' is missing
    CHECK(error_column("raw + * bias") == 7);
    CHECK(error_column("raw bias") == 5);
    CHECK(error_column("2x") == 2);
    CHECK(error_column("raw + foo(bias)") == 7);    // unknown function
    CHECK(error_column("raw ** 2") == 5);
    CHECK(error_column("") == 1);
    CHECK(error_column("   ") == 4);
    CHECK(error_column("raw + 1[adu//]") == 9);     // the unit inside the brackets
    CHECK(error_column("raw + 1[adu") == 8);
    CHECK(error_column("mean(a, b)") == 7);
    CHECK(error_column("(a + b))") == 8);
    CHECK(error_column("a + $") == 5);
}

TEST_CASE("values and uncertainties propagate as first-order errors")
{
    auto raw = make({10, 20, 30, 40}, 2, 2);
    set_sigma(raw, {1, 2, 3, 4});
    auto bias = make({1, 1, 1, 1}, 2, 2);
    set_sigma(bias, {0.5, 0.5, 0.5, 0.5});
    auto flat = make({2, 2, 4, 4}, 2, 2, "");  // exact: no uncertainty
    images in{{"raw", raw}, {"bias", bias}, {"flat", flat}};

    const auto out = ccdx::formula("(raw - bias) / flat").evaluate(in);
    CHECK(out.unit() == ccdx::unit("adu"));
    CHECK(out.data()(0, 0) == doctest::Approx(4.5));
    CHECK(out.data()(0, 1) == doctest::Approx(9.5));
    CHECK(out.data()(1, 0) == doctest::Approx(7.25));
    CHECK(out.data()(1, 1) == doctest::Approx(9.75));
    REQUIRE(out.has_uncertainty());
    // sqrt(1 + 0.25) / 2, sqrt(4 + 0.25) / 2, sqrt(9 + 0.25) / 4, sqrt(16 + 0.25) / 4
    CHECK(out.uncertainty()(0, 0) == doctest::Approx(0.5590169944));
    CHECK(out.uncertainty()(0, 1) == doctest::Approx(1.0307764064));
    CHECK(out.uncertainty()(1, 0) == doctest::Approx(0.7603453162));
    CHECK(out.uncertainty()(1, 1) == doctest::Approx(1.0077822185));
    CHECK_FALSE(out.has_mask());
}

TEST_CASE("a product and a quotient of two uncertain images")
{
    auto a = make({3}, 1, 1);
    set_sigma(a, {0.3});
    auto b = make({2}, 1, 1, "s");
    set_sigma(b, {0.4});
    images in{{"a", a}, {"b", b}};
    const auto product = ccdx::formula("a * b").evaluate(in);
    CHECK(product.data()(0, 0) == doctest::Approx(6));
    CHECK(product.uncertainty()(0, 0) == doctest::Approx(std::sqrt(0.09 * 4 + 0.16 * 9)));
    CHECK(product.unit() == ccdx::unit("adu s"));
    const auto quotient = ccdx::formula("a / b").evaluate(in);
    CHECK(quotient.data()(0, 0) == doctest::Approx(1.5));
    // (va b² + vb a²) / b⁴ = (0.36 + 1.44) / 16
    CHECK(quotient.uncertainty()(0, 0) == doctest::Approx(std::sqrt(1.8 / 16)));
    CHECK(quotient.unit() == ccdx::unit("adu / s"));
    // an exact scalar over an image: 1/b has sigma 0.4 / b²
    const auto inverse = ccdx::formula("1 / b").evaluate(in);
    CHECK(inverse.data()(0, 0) == doctest::Approx(0.5));
    CHECK(inverse.uncertainty()(0, 0) == doctest::Approx(0.1));
    CHECK(inverse.unit() == ccdx::unit("1 / s"));
}

TEST_CASE("mean and median give a scalar in their operand's unit, NaN skipped")
{
    auto flat = make({2, 2, 4, std::numeric_limits<double>::quiet_NaN(), 8, 2}, 2, 3);
    auto raw = make({12, 12, 12, 12, 12, 12}, 2, 3);
    images in{{"raw", raw}, {"flat", flat}};
    const auto by_mean = ccdx::formula("raw / (flat / mean(flat))").evaluate(in);
    CHECK(by_mean.unit().is_dimensionless() == false);
    CHECK(by_mean.unit() == ccdx::unit("adu"));
    CHECK(by_mean.data()(0, 0) == doctest::Approx(12 * 3.6 / 2));  // mean of 2 2 4 8 2 = 3.6
    CHECK(std::isnan(by_mean.data()(1, 0)));
    const auto by_median = ccdx::formula("flat / median(flat)").evaluate(in);
    CHECK(by_median.unit().is_dimensionless());
    CHECK(by_median.data()(1, 1) == doctest::Approx(4));           // median of 2 2 2 4 8 = 2
    const auto shifted = ccdx::formula("raw - median(raw - flat)").evaluate(in);
    CHECK(shifted.data()(0, 0) == doctest::Approx(2));              // median of 10 10 8 4 10 = 10
}

TEST_CASE("masks combine with bitwise OR")
{
    auto a = make({1, 2, 3, 4}, 2, 2);
    auto b = make({1, 1, 1, 1}, 2, 2);
    a.ensure_mask()(0, 0) = 1;
    b.ensure_mask()(0, 0) = 4;
    b.mask()(1, 1) = 4;
    images in{{"a", a}, {"b", b}};
    const auto out = ccdx::formula("sqrt(abs(-(a - b) / b))").evaluate(in);
    REQUIRE(out.has_mask());
    CHECK(out.mask()(0, 0) == 5);
    CHECK(out.mask()(0, 1) == 0);
    CHECK(out.mask()(1, 0) == 0);
    CHECK(out.mask()(1, 1) == 4);
    CHECK(out.data()(1, 1) == doctest::Approx(std::sqrt(3.0)));
}

TEST_CASE("blocks and SIMD tails cover every pixel")
{
    // 37 x 53 pixels in blocks of 100: block and batch boundaries fall mid-row.
    ccdx::image<float> a(37, 53), b(37, 53);  // dimensionless
    for (std::size_t i = 0; i < a.size(); ++i) {
        a.data().data()[i] = static_cast<float>(i);
        b.data().data()[i] = 1.0f;
    }
    std::map<std::string, ccdx::image<float>, std::less<>> in{{"a", a}, {"b", b}};
    const auto out = ccdx::formula("2 * a - square(b) + 0.5").evaluate(in, {}, 100);
    bool all = true;
    for (std::size_t i = 0; i < out.size(); ++i) all = all && out.data().data()[i] == static_cast<float>(2.0 * i - 0.5);
    CHECK(all);
    CHECK_FALSE(out.has_uncertainty());
}

TEST_CASE("the result takes the header of the first image the formula computes from")
{
    auto raw = make({5}, 1, 1);
    raw.header().set("OBJECT", std::string("kelt-16b"));
    auto bias = make({1}, 1, 1);
    bias.header().set("OBJECT", std::string("bias"));
    images in{{"raw", raw}, {"bias", bias}};
    CHECK(ccdx::formula("raw - bias").evaluate(in).header().value<std::string>("OBJECT") == "kelt-16b");
    CHECK(ccdx::formula("mean(raw) * 0 + bias").evaluate(in).header().value<std::string>("OBJECT") == "bias");
}

TEST_CASE("bad operands: units, shapes, missing images, constant formulas")
{
    auto adu = make({1, 2}, 1, 2);
    auto electron = make({1, 2}, 1, 2, "electron");
    auto wide = make({1, 2, 3}, 1, 3);
    images in{{"adu", adu}, {"electron", electron}, {"wide", wide}};
    CHECK_THROWS_AS(ccdx::formula("adu - electron").evaluate(in), ccdx::unit_error);
    CHECK(ccdx::formula("adu + 1").evaluate(in).unit() == ccdx::unit("adu"));  // a bare number takes adu
    CHECK_THROWS_WITH_AS(ccdx::formula("adu + 1[electron]").evaluate(in), doctest::Contains("'adu'"), ccdx::unit_error);
    CHECK(ccdx::formula("adu + 1[adu]").evaluate(in).data()(0, 1) == doctest::Approx(3));
    CHECK(ccdx::formula("adu * 2[electron / adu] - electron").evaluate(in).unit() == ccdx::unit("electron"));
    CHECK_THROWS_WITH_AS(ccdx::formula("adu - wide").evaluate(in), doctest::Contains("(1, 3)"), ccdx::shape_error);
    CHECK_THROWS_WITH_AS(ccdx::formula("adu - flat").evaluate(in), doctest::Contains("'flat'"), ccdx::value_error);
    CHECK_THROWS_AS(ccdx::formula("mean(adu) * 2").evaluate(in), ccdx::value_error);
    CHECK_THROWS_WITH_AS(ccdx::formula("sqrt(adu)").evaluate(in), doctest::Contains("column 1"), ccdx::unit_error);
    CHECK(ccdx::formula("sqrt(adu * adu)").evaluate(in).unit() == ccdx::unit("adu"));
}

TEST_CASE("a runtime formula gives what the compiled expression gives")
{
    const std::size_t rows = 23, cols = 41;
    ccdx::image<float> raw(rows, cols, ccdx::unit("adu")), bias(rows, cols, ccdx::unit("adu")),
        dark(rows, cols, ccdx::unit("adu")), flat(rows, cols, ccdx::unit("adu"));
    auto sigma = xt::xtensor<float, 2>::from_shape({rows, cols});
    for (std::size_t i = 0; i < raw.size(); ++i) {
        raw.data().data()[i] = 1000.0f + float(i % 97) * 3.5f;
        bias.data().data()[i] = 300.0f + float(i % 13);
        dark.data().data()[i] = float(i % 7) * 2.0f;
        flat.data().data()[i] = 0.9f + float(i % 11) * 0.02f;
        sigma.data()[i] = 1.0f + float(i % 5);
    }
    bias.set_uncertainty(sigma);
    dark.set_uncertainty(sigma * 0.5f);
    flat.ensure_mask()(3, 4) = 2;

    const ccdx::quantity flat_mean(ccdx::mean(flat), flat.unit());
    const ccdx::image<float> compiled = (raw - bias - dark * 0.3) / (flat / flat_mean);
    std::map<std::string, ccdx::image<float>, std::less<>> in{{"raw", raw}, {"bias", bias}, {"dark", dark}, {"flat", flat}};
    const auto runtime = ccdx::formula("(raw - bias - dark * 0.3) / (flat / mean(flat))").evaluate(in, {}, 256);
    REQUIRE(runtime.has_uncertainty() == compiled.has_uncertainty());
    REQUIRE(runtime.has_mask());
    CHECK(runtime.unit() == compiled.unit());
    std::size_t value_off = 0, sigma_off = 0;
    for (std::size_t i = 0; i < runtime.size(); ++i) {
        const float v = runtime.data().data()[i], w = compiled.data().data()[i];
        const float s = runtime.uncertainty().data()[i], t = compiled.uncertainty().data()[i];
        value_off += std::abs(v - w) > 1e-5f * std::abs(w);
        sigma_off += std::abs(s - t) > 1e-5f * std::abs(t);
    }
    CHECK(value_off == 0);
    CHECK(sigma_off == 0);
    CHECK(runtime.mask() == compiled.mask());
}

namespace {

// One rule book: the same formula, typed at run time and written in C++.
struct frames {
    static constexpr std::size_t rows = 300, cols = 257;  // above the threads' threshold, odd widths
    ccdx::image<float> raw = frame("raw", "adu", 0), bias = frame("bias", "adu", 1), dark = frame("dark", "adu", 2),
                       flat = frame("flat", "", 3), e = frame("e", "electron", 4);
    ccdx::image<float> wide{rows, cols + 1, ccdx::unit("adu")};

    frames()
    {
        wide.set_name("wide");
        raw.data()(7, 9) = std::numeric_limits<float>::quiet_NaN();
        raw.ensure_mask()(3, 4) = 2;
        flat.ensure_mask()(5, 6) = 1;
    }

    static ccdx::image<float> frame(const char* name, const char* unit, int seed)
    {
        ccdx::image<float> img(rows, cols, ccdx::unit(unit));
        auto sigma = xt::xtensor<float, 2>::from_shape({rows, cols});
        for (std::size_t i = 0; i < img.size(); ++i) {
            const auto k = static_cast<float>((i * 7919 + static_cast<std::size_t>(seed) * 104729) % 1009);
            img.data().data()[i] = seed == 3 ? 0.8f + k / 2500.0f : 100.0f + k * (seed == 0 ? 0.9f : 0.3f);
            sigma.data()[i] = 0.5f + k / 400.0f;
        }
        if (seed != 2) img.set_uncertainty(std::move(sigma));
        img.set_name(name);
        return img;
    }

    std::map<std::string, ccdx::image<float>, std::less<>> operands() const
    {
        return {{"raw", raw}, {"bias", bias}, {"dark", dark}, {"flat", flat}, {"e", e}, {"wide", wide}};
    }
};

struct outcome {
    std::string text, error_type, error;
    ccdx::image<float> result;
};

template <class F>
outcome attempt(F&& f)
{
    outcome o;
    try {
        f(o);
    } catch (const ccdx::error& e) {
        o.error_type = typeid(e).name();
        o.error = e.what();
    }
    return o;
}

bool same_bits(const float* a, const float* b, std::size_t n)
{
    for (std::size_t i = 0; i < n; ++i)
        if (!(std::isnan(a[i]) && std::isnan(b[i])) && std::memcmp(a + i, b + i, sizeof(float)) != 0) return false;
    return true;
}

}  // namespace

TEST_CASE_FIXTURE(frames, "a formula typed at run time gives what the same formula in C++ gives: text, unit, errors, pixels")
{
    using namespace ccdx;
    const quantity flat_mean(mean(flat), flat.unit());
    const image<float> raw_minus_bias = raw - bias;
    const quantity offset(median(raw_minus_bias), raw.unit());
    struct row {
        const char* text;
        std::function<outcome()> cpp;
        bool prints_alike = true;  // false where C++ holds a number that the formula computes (mean, median)
    };
    const auto cpp = [](auto build) {
        return [build] {
            return attempt([&](outcome& o) {
                const auto expression = build();
                o.text = to_string(expression);
                o.result = expression;
            });
        };
    };
    const row table[] = {
        {"raw - 100", cpp([&] { return raw - 100; })},
        {"(raw - bias - dark * 0.3) / flat", cpp([&] { return (raw - bias - dark * 0.3) / flat; })},
        {"raw * 1.5[electron / adu] - e", cpp([&] { return raw * quantity(1.5, unit("electron / adu")) - e; })},
        {"sqrt(abs(flat)) * raw + square(bias) / raw", cpp([&] { return sqrt(abs(flat)) * raw + square(bias) / raw; })},
        {"-(raw - bias) / -flat", cpp([&] { return -(raw - bias) / -flat; })},
        {"raw - (bias - dark)", cpp([&] { return raw - (bias - dark); })},
        {"min(raw, bias) + max(raw, 500)", cpp([&] { return min(raw, bias) + max(raw, 500); })},
        {"clip(raw, 150, 700)", cpp([&] { return clip(raw, 150, 700); })},
        {"where(raw > bias && !is_nan(raw), raw - bias, 0)",
         cpp([&] { return where(raw > bias && !is_nan(raw), raw - bias, 0); })},
        {"mark(raw, raw >= 800 || raw < 120, 4)", cpp([&] { return mark(raw, raw >= 800 || raw < 120, 4); })},
        {"replace(raw, is_masked(raw) || is_masked(flat), 0)",
         cpp([&] { return replace(raw, is_masked(raw) || is_masked(flat), 0); })},
        {"raw / (flat / mean(flat))", cpp([&] { return raw / (flat / flat_mean); }), false},
        {"raw - median(raw - bias)", cpp([&] { return raw - offset; }), false},
        {"raw - e", cpp([&] { return raw - e; })},
        {"raw - wide", cpp([&] { return raw - wide; })},
        {"sqrt(raw)", cpp([&] { return sqrt(raw); })},
        {"clip(raw, 5, 1)", cpp([&] { return clip(raw, 5, 1); })},
        {"raw < e", cpp([&] { return where(raw < e, raw, 0); })},
        {"raw - 1[electron]", cpp([&] { return raw - quantity(1, unit("electron")); })},
    };
    const auto in = operands();
    for (const row& r : table) {
        CAPTURE(std::string(r.text));
        const outcome c = r.cpp();
        const outcome f = attempt([&](outcome& o) {
            const formula typed(r.text);
            o.text = typed.to_string();
            ccdx::eval_options two;
            two.threads = 2;
            o.result = typed.evaluate(in, two, 1000);
        });
        CHECK(f.error_type == c.error_type);
        if (!c.error.empty()) {
            // The C++ message, after the formula and the column.
            CHECK_MESSAGE(f.error.size() >= c.error.size(), f.error);
            CHECK_MESSAGE(f.error.compare(f.error.size() - std::min(f.error.size(), c.error.size()), c.error.size(), c.error) == 0,
                          f.error << " | " << c.error);
            continue;
        }
        if (r.prints_alike) CHECK(c.text == r.text);
        CHECK(f.text == r.text);
        CHECK(f.result.unit() == c.result.unit());
        REQUIRE(f.result.shape() == c.result.shape());
        CHECK(same_bits(f.result.data().data(), c.result.data().data(), c.result.size()));
        REQUIRE(f.result.has_uncertainty() == c.result.has_uncertainty());
        if (c.result.has_uncertainty())
            CHECK(same_bits(f.result.uncertainty().data(), c.result.uncertainty().data(), c.result.size()));
        REQUIRE(f.result.has_mask() == c.result.has_mask());
        if (c.result.has_mask()) CHECK(f.result.mask() == c.result.mask());
    }
}

TEST_CASE("a formula of ten thousand terms prints and evaluates in linear time; deep nesting is refused")
{
    std::string text = "x";
    for (int i = 0; i < 10000; ++i) text += " + x";
    ccdx::image<double> x(2, 3, ccdx::unit("adu"));
    x.data().fill(1);
    const ccdx::formula f(text);
    CHECK(f.to_string() == text);
    const auto out = f.evaluate(std::map<std::string, ccdx::image<double>, std::less<>>{{"x", x}});
    CHECK(out.data()(1, 2) == 10001);
    const std::string deep = std::string(100000, '(') + "x" + std::string(100000, ')');
    CHECK_THROWS_WITH_AS(ccdx::formula{deep}, doctest::Contains("nested more than"), ccdx::formula_error);
}
