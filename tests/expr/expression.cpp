// Nodes of the expression tree: the propagation each one applies (checked against values
// worked out by hand), the units and shapes they check when built, and how they print.

#include <doctest/doctest.h>

#include <cmath>
#include <string>

#include <ccdx/ccdx.hpp>

using namespace ccdx;

namespace {

image<float> row_image(std::initializer_list<float> values, std::initializer_list<float> sigmas,
                       std::initializer_list<mask_t> mask, const char* unit_text, const char* name)
{
    image<float> img(1, values.size(), unit(unit_text));
    std::size_t i = 0;
    for (float v : values) img.data()(0, i++) = v;
    if (sigmas.size()) {
        image<float>::plane s = image<float>::plane::from_shape({1, sigmas.size()});
        i = 0;
        for (float v : sigmas) s(0, i++) = v;
        img.set_uncertainty(s);
    }
    if (mask.size()) {
        image<float>::mask_plane m = image<float>::mask_plane::from_shape({1, mask.size()});
        i = 0;
        for (mask_t v : mask) m(0, i++) = v;
        img.set_mask(m);
    }
    img.set_name(name);
    return img;
}

void check_row(const xt::xtensor<float, 2>& got, std::initializer_list<double> expected, double tol = 1e-5)
{
    REQUIRE(got.shape()[1] == expected.size());
    std::size_t i = 0;
    for (double e : expected) {
        CAPTURE(i);
        if (std::isnan(e))
            CHECK(std::isnan(got(0, i)));
        else if (std::isinf(e))
            CHECK(got(0, i) == e);
        else
            CHECK(got(0, i) == doctest::Approx(e).epsilon(tol));
        ++i;
    }
}

void check_mask(const xt::xtensor<mask_t, 2>& got, std::initializer_list<int> expected)
{
    std::size_t i = 0;
    for (int e : expected) CHECK(int(got(0, i++)) == e);
}

struct frames {
    image<float> raw = row_image({10, 20, 30}, {1, 2, 3}, {0, 1, 0}, "adu", "raw");
    image<float> bias = row_image({1, 2, 3}, {0.5f, 0.5f, 0.5f}, {0, 0, 4}, "adu", "bias");
    image<float> plain = row_image({4, 9, 16}, {2, 3, 4}, {}, "adu2", "plain");
};

}  // namespace

TEST_CASE_FIXTURE(frames, "addition and subtraction add variances and OR masks")
{
    image<float> d = raw - bias;
    check_row(d.data(), {9, 18, 27});
    // sqrt(1 + 0.25), sqrt(4 + 0.25), sqrt(9 + 0.25)
    check_row(d.uncertainty(), {1.1180340, 2.0615528, 3.0413813});
    check_mask(d.mask(), {0, 1, 4});
    CHECK(d.unit() == unit("adu"));

    image<float> s = raw + bias;
    check_row(s.data(), {11, 22, 33});
    check_row(s.uncertainty(), {1.1180340, 2.0615528, 3.0413813});
}

TEST_CASE_FIXTURE(frames, "multiplication: va b^2 + vb a^2")
{
    image<float> p = raw * bias;
    check_row(p.data(), {10, 40, 90});
    // 1*1 + 0.25*100 = 26; 4*4 + 0.25*400 = 116; 9*9 + 0.25*900 = 306
    check_row(p.uncertainty(), {std::sqrt(26.0), std::sqrt(116.0), std::sqrt(306.0)});
    CHECK(p.unit() == unit("adu") * unit("adu"));
}

TEST_CASE_FIXTURE(frames, "division: (va + vb (a/b)^2) / b^2")
{
    image<float> q = raw / bias;
    check_row(q.data(), {10, 10, 10});
    // (1 + 0.25*100)/1 = 26; (4 + 0.25*100)/4 = 7.25; (9 + 0.25*100)/9 = 34/9
    check_row(q.uncertainty(), {std::sqrt(26.0), std::sqrt(7.25), std::sqrt(34.0 / 9.0)});
    CHECK(q.unit().is_dimensionless());
}

TEST_CASE_FIXTURE(frames, "an exact scalar scales the uncertainty and leaves the mask alone")
{
    image<float> t = raw * 2.0;
    check_row(t.data(), {20, 40, 60});
    check_row(t.uncertainty(), {2, 4, 6});
    check_mask(t.mask(), {0, 1, 0});

    image<float> q = raw / 4;
    check_row(q.uncertainty(), {0.25, 0.5, 0.75});

    image<float> k = 100 / plain;  // d(k/b) = k vb^0.5 / b^2
    check_row(k.data(), {25, 100.0 / 9, 6.25});
    check_row(k.uncertainty(), {100 * 2 / 16.0, 100 * 3 / 81.0, 100 * 4 / 256.0});

    image<float> m = 5.0 - raw;
    check_row(m.data(), {-5, -15, -25});
    check_row(m.uncertainty(), {1, 2, 3});
}

TEST_CASE_FIXTURE(frames, "an operand without uncertainty contributes none, even at infinity")
{
    image<float> huge = row_image({INFINITY, 1, 2}, {}, {}, "adu", "huge");
    image<float> p = raw * huge;
    // va b^2 is inf at the first pixel; no vb a^2 term exists to make it 0 * inf.
    CHECK(std::isinf(p.uncertainty()(0, 0)));
    check_row(p.uncertainty(), {INFINITY, 2, 6});
}

TEST_CASE_FIXTURE(frames, "unary functions propagate f'(a)^2 va")
{
    image<float> r = sqrt(plain);
    CHECK(r.unit() == unit("adu"));
    check_row(r.data(), {2, 3, 4});
    check_row(r.uncertainty(), {0.5, 0.5, 0.5});  // sigma / (2 sqrt a)

    image<float> n = -plain;
    check_row(n.data(), {-4, -9, -16});
    check_row(n.uncertainty(), {2, 3, 4});

    image<float> a = abs(-plain);
    check_row(a.data(), {4, 9, 16});
    check_row(a.uncertainty(), {2, 3, 4});

    image<float> q = square(plain);
    check_row(q.data(), {16, 81, 256});
    check_row(q.uncertainty(), {16, 54, 128});  // 2 a sigma
}

TEST_CASE_FIXTURE(frames, "min and max take the chosen side's variance and OR both masks")
{
    image<float> other = row_image({15, 5, 30}, {7, 7, 7}, {8, 0, 0}, "adu", "other");
    image<float> lo = min(raw, other);
    check_row(lo.data(), {10, 5, 30});
    check_row(lo.uncertainty(), {1, 7, 3});  // a tie keeps the left operand
    check_mask(lo.mask(), {8, 1, 0});

    image<float> hi = max(raw, other);
    check_row(hi.data(), {15, 20, 30});
    check_row(hi.uncertainty(), {7, 2, 3});

    image<float> nan_in = row_image({NAN, 1, 2}, {}, {}, "adu", "n");
    image<float> m = max(nan_in, 0.0);
    CHECK(std::isnan(m.data()(0, 0)));
    check_row(m.data(), {NAN, 1, 2});
}

TEST_CASE_FIXTURE(frames, "clip limits values; a clipped pixel no longer varies")
{
    image<float> c = clip(raw, 15, 25);
    check_row(c.data(), {15, 20, 25});
    check_row(c.uncertainty(), {0, 2, 0});
    CHECK_THROWS_AS(clip(raw, 3, 1), value_error);
}

TEST_CASE_FIXTURE(frames, "where selects value, variance and mask by a condition")
{
    image<float> w = where(raw > 15, raw, bias);
    check_row(w.data(), {1, 20, 30});
    check_row(w.uncertainty(), {0.5, 2, 3});
    check_mask(w.mask(), {0, 1, 0});

    image<float> z = where(raw >= 20 && raw < 30, raw, 0.0);
    check_row(z.data(), {0, 20, 0});

    image<float> y = where(!(raw == 20) || bias > 2, raw, -1.0);
    check_row(y.data(), {10, -1, 30});
}

TEST_CASE_FIXTURE(frames, "mark ORs bits into the mask where a condition holds")
{
    image<float> m = mark(raw, raw >= 20, 2);
    check_row(m.data(), {10, 20, 30});
    check_mask(m.mask(), {0, 3, 2});

    image<float> p = mark(plain, plain > 100, 2);  // no mask in, a mask out, nothing set
    REQUIRE(p.has_mask());
    check_mask(p.mask(), {0, 0, 0});

    image<float> n = row_image({1, NAN, 3}, {}, {}, "adu", "n");
    image<float> flagged = mark(n, is_nan(n), 16);
    check_mask(flagged.mask(), {0, 16, 0});

    image<float> masked_zero = where(is_masked(raw), 0.0, raw);
    check_row(masked_zero.data(), {10, 0, 30});
    CHECK_THROWS_AS(mark(raw, raw > 0, 0), value_error);
}

TEST_CASE_FIXTURE(frames, "replace swaps values and keeps the uncertainty (a flat's min_value)")
{
    image<float> r = replace(raw, raw < 15, 15);
    check_row(r.data(), {15, 20, 30});
    check_row(r.uncertainty(), {1, 2, 3});
    check_mask(r.mask(), {0, 1, 0});
}

TEST_CASE("profiles broadcast along rows and columns")
{
    image<float> img(2, 3, unit("adu"));
    img.data() = xt::xtensor<float, 2>{{1, 2, 3}, {4, 5, 6}};
    image<float> by_row = img - row_profile<double>({1, 4}, unit("adu"), "overscan");
    CHECK(by_row.data() == xt::xtensor<float, 2>{{0, 1, 2}, {0, 1, 2}});
    image<float> by_col = img - column_profile<float>({1, 2, 3}, unit("adu"));
    CHECK(by_col.data() == xt::xtensor<float, 2>{{0, 0, 0}, {3, 3, 3}});
    CHECK_FALSE(by_col.has_uncertainty());

    image<float> outer = row_profile<float>({1, 2}) * column_profile<float>({1, 10, 100});
    CHECK(outer.data() == xt::xtensor<float, 2>{{1, 10, 100}, {2, 20, 200}});

    CHECK_THROWS_AS(img - row_profile<float>({1, 2, 3}, unit("adu")), shape_error);
    CHECK_THROWS_AS(eval(row_profile<float>({1, 2}) * 2), shape_error);
}

TEST_CASE_FIXTURE(frames, "units: + and - need equal units, * and / combine them")
{
    image<float> e = row_image({1, 2, 3}, {}, {}, "electron", "electrons");
    try {
        (void)(raw - e);
        FAIL("no unit_error");
    } catch (const unit_error& err) {
        const std::string what = err.what();
        CHECK(what.find("adu") != std::string::npos);
        CHECK(what.find("electron") != std::string::npos);
        CHECK(what.find("raw") != std::string::npos);
    }
    CHECK_THROWS_AS(min(raw, e), unit_error);
    CHECK_THROWS_AS(raw < e, unit_error);
    CHECK_THROWS_AS(raw + quantity(2, unit("s")), unit_error);

    // A bare number takes the other side's unit; a quantity brings its own.
    CHECK((raw - 100).unit() == unit("adu"));
    CHECK((raw * quantity(1.5, unit("electron/adu"))).unit() == unit("electron"));
    CHECK((raw / quantity(90, unit("s"))).unit() == unit("adu / s"));
    CHECK(square(raw).unit() == unit("adu2"));
    CHECK(sqrt(square(raw)).unit() == unit("adu"));
    CHECK_THROWS_AS(sqrt(raw), unit_error);  // adu^(1/2) is not a unit ccdx represents
}

TEST_CASE_FIXTURE(frames, "shapes are checked when a node is built, naming both sides")
{
    image<float> wide = row_image({1, 2, 3, 4}, {}, {}, "adu", "wide");
    try {
        (void)(raw + wide);
        FAIL("no shape_error");
    } catch (const shape_error& err) {
        const std::string what = err.what();
        CHECK(what.find("raw") != std::string::npos);
        CHECK(what.find("(1, 3)") != std::string::npos);
        CHECK(what.find("wide") != std::string::npos);
        CHECK(what.find("(1, 4)") != std::string::npos);
    }
    CHECK_THROWS_AS(where(wide > 0, raw, raw), shape_error);
    CHECK_THROWS_AS(mark(raw, wide > 0, 1), shape_error);
}

TEST_CASE("an expression prints itself as the formula")
{
    image<float> raw(2, 2, unit("adu")), bias(2, 2, unit("adu")), dark(2, 2, unit("adu")), flat(2, 2);
    raw.set_name("raw");
    bias.set_name("bias");
    dark.set_name("dark");
    flat.set_name("flat");
    CHECK(to_string((raw - bias - dark * 0.3f) / flat) == "(raw - bias - dark * 0.3) / flat");
    CHECK(to_string((raw - bias) * quantity(1.5, unit("electron/adu"))) == "(raw - bias) * 1.5[electron / adu]");
    CHECK(to_string(raw - (bias - dark)) == "raw - (bias - dark)");
    CHECK(to_string(raw / (bias * dark)) == "raw / (bias * dark)");
    CHECK(to_string(-(raw + bias)) == "-(raw + bias)");
    CHECK(to_string(sqrt(flat) + abs(flat)) == "sqrt(flat) + abs(flat)");
    CHECK(to_string(where(raw > 10 && !(bias < 2), raw, 0)) == "where(raw > 10 && !(bias < 2), raw, 0)");
    CHECK(to_string(view(raw, parse_section("[1:2,2:2]"))) == "raw[1:2,2:2]");
    image<float> unnamed(2, 2, unit("adu"));
    CHECK(to_string(unnamed + 1) == "image + 1");
}

TEST_CASE("building an expression computes nothing")
{
    image<float> raw(2, 2, unit("adu"));
    raw.data().fill(1);
    auto e = raw * 2;
    raw.data().fill(5);  // the leaf reads raw's pixels at evaluation, not before
    image<float> out = e;
    CHECK(out.data()(1, 1) == 10);
}

TEST_CASE("with_unit, without_uncertainty, with_keyword and with_history")
{
    image<float> raw(1, 2, unit("adu"));
    raw.set_name("raw");
    raw.data().fill(3);
    raw.set_uncertainty(xt::xtensor<float, 2>{{1, 1}});
    raw.header().set("OBJECT", std::string("KELT-16"));

    image<float> a = with_keyword(with_unit(raw * 2, unit("electron")), "GAINCOR", true, "gain corrected");
    CHECK(a.unit() == unit("electron"));
    CHECK(a.header().value<std::string>("OBJECT") == "KELT-16");
    CHECK(a.header().value<bool>("GAINCOR"));
    CHECK(a.has_uncertainty());

    image<float> b = with_history(without_uncertainty(raw - 1));
    CHECK_FALSE(b.has_uncertainty());
    REQUIRE(b.header().history().size() == 1);
    CHECK(b.header().history()[0] == "raw - 1");
    CHECK_FALSE(raw.header().contains("GAINCOR"));  // the operand's header is untouched
}

namespace {

// A node of the user's own: a constant in a unit (the protocol of node.hpp, nothing more).
struct constant : expression {
    using value_type = void;
    static constexpr bool exact = true;
    static constexpr int precedence = detail::precedence::primary;
    constant(double value, ccdx::unit in) : k(value), u(std::move(in)) {}
    double k;
    ccdx::unit u;
    shape2 shape() const { return {detail::any_extent, detail::any_extent}; }
    const ccdx::unit& unit() const { return u; }
    bool has_variance() const { return false; }
    bool has_mask() const { return false; }
    std::string to_string() const { return "k"; }
    const header* first_header() const { return nullptr; }
    void add_cards(header&) const {}
    template <class F>
    void visit_planes(F&&, std::ptrdiff_t, std::ptrdiff_t) const {}
    template <bool V, bool M, class B>
    part<B> load(std::size_t, std::size_t) const noexcept
    {
        part<B> p;
        p.value = B(static_cast<typename detail::lanes<B>::value_type>(k));
        return p;
    }
};

// The lifetime rule: an expression reads the images given to it as lvalues where they are and
// owns those moved into it. Returned from a function, it may hold only what outlives the call.
auto minus_local_bias(const image<float>& raw)
{
    image<float> bias(raw.rows(), raw.cols(), raw.unit());
    bias.data().fill(2);
    bias.set_name("bias");
    return raw - std::move(bias);  // `raw - bias` would read a destroyed image
}

}  // namespace

TEST_CASE("the engine's nodes and conditions satisfy the node protocol; images and numbers do not")
{
    image<float> raw(2, 2, unit("adu")), bias(2, 2, unit("adu"));
    CHECK(is_node_v<decltype(raw - bias)>);
    CHECK(is_node_v<decltype(clip(sqrt(raw) * 2.f, 0, 1))>);
    CHECK(is_node_v<decltype(mark(replace(raw, is_nan(raw), 0), raw > 5, 1))>);
    CHECK(is_node_v<decltype(create_deviation(raw, quantity(2, unit("electron/adu")), quantity(5, unit("electron"))))>);
    CHECK(is_condition_node_v<decltype(raw > bias && !is_masked(raw))>);
    CHECK_FALSE(is_node_v<decltype(raw > bias)>);
    CHECK_FALSE(is_node_v<image<float>>);
    CHECK_FALSE(is_node_v<float>);
    CHECK(is_node_v<constant>);
}

TEST_CASE("a node of the user's own takes part in the pass like the engine's")
{
    image<float> raw(3, 37, unit("adu"));  // 37 columns: batches and a scalar tail
    raw.data().fill(10);
    raw.set_name("raw");
    const image<float> out = (raw - constant(4, unit("adu"))) * 2;
    CHECK(out.unit() == unit("adu"));
    CHECK(out.data()(2, 36) == 12);
    CHECK(out.data()(0, 0) == 12);
    CHECK(to_string(raw - constant(4, unit("adu"))) == "raw - k");
    const constant electrons(4, unit("electron"));
    CHECK_THROWS_AS(raw - electrons, unit_error);
}

TEST_CASE("an expression returned from a function owns the images moved into it")
{
    image<float> raw(4, 33, unit("adu"));
    raw.data().fill(5);
    raw.set_name("raw");
    const auto e = minus_local_bias(raw);  // bias is gone; the expression holds its pixels
    CHECK(to_string(e) == "raw - bias");
    const image<float> out = e;
    CHECK(out.data()(3, 32) == 3);
    CHECK(out.unit() == unit("adu"));
}
