#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <string>

#include <ccdx/ccdx.hpp>
#include <ccdx/reduce/calibrate.hpp>

#include "frames.hpp"

using ccdx::image;
using ccdx::quantity;
using ccdx::unit;
using fixtures::filled;

namespace {

image<double> with_sigma(image<double> img, double sigma)
{
    auto s = img.data();
    s.fill(sigma);
    img.set_uncertainty(s);
    return img;
}

std::string keyword_text(const image<double>& img, const char* key)
{
    return img.header().value<std::string>(key);
}

}  // namespace

TEST_CASE("subtract_bias subtracts, propagates, keeps the science header and records itself as ccdproc does")
{
    auto raw = with_sigma(filled(3, 5, 110, "adu", "raw"), 3);
    raw.header().set("EXPTIME", 30.0);
    auto bias = with_sigma(filled(3, 5, 100, "adu", "bias"), 4);
    bias.header().set("IMAGETYP", std::string("BIAS"));

    const image<double> out = ccdx::subtract_bias(raw, bias);
    CHECK(out.data()(2, 4) == 10);
    CHECK(out.uncertainty()(0, 0) == doctest::Approx(5));  // sqrt(3^2 + 4^2)
    CHECK(out.unit() == unit("adu"));
    CHECK(out.header().value<double>("EXPTIME") == 30);
    CHECK_FALSE(out.header().contains("IMAGETYP"));  // the master's header is dropped
    // ccdproc's two cards (its test_implicit_logging): the function's name holds the short one.
    CHECK(keyword_text(out, "SUBTRACT_BIAS") == "subbias");
    CHECK(out.header().find("SUBTRACT_BIAS")->comment == "Shortened name for ccdproc command");
    CHECK(keyword_text(out, "SUBBIAS") == "ccd=<CCDData>, master=<CCDData>");
    CHECK(raw.data()(0, 0) == 110);  // the input is not changed
}

TEST_CASE("add_keyword replaces a step's record: none, a bare keyword, a card, several")
{
    const auto raw = filled(3, 5, 110, "adu", "raw");
    const auto bias = filled(3, 5, 100, "adu", "bias");
    const image<double> plain = ccdx::add_keyword(ccdx::subtract_bias(raw, bias), ccdx::no_keywords);
    CHECK(plain.header().size() == raw.header().size());
    CHECK_FALSE(plain.header().contains("SUBBIAS"));
    CHECK(plain.data()(1, 1) == 10);

    const image<double> bare = ccdx::add_keyword(ccdx::subtract_bias(raw, bias), std::string("toolongforfits"));
    REQUIRE(bare.header().contains("TOOLONGFORFITS"));
    CHECK_FALSE(bare.header().get<std::string>("toolongforfits"));  // no value, as ccdproc's None
    CHECK_FALSE(bare.header().contains("SUBBIAS"));

    const image<double> one = ccdx::add_keyword(ccdx::subtract_bias(raw, bias), ccdx::card{"FILTER", std::string("V"), ""});
    CHECK(one.header().value<std::string>("FILTER") == "V");

    const image<double> several = ccdx::add_keyword(
        ccdx::subtract_bias(raw, bias),
        std::vector<ccdx::card>{{"PROCESS", std::string("Added deviation"), ""}, {"N_IMAGES", std::int64_t(1), ""},
                                {"CUR_TEMP", 42.9, ""}});
    CHECK(several.header().value<std::string>("PROCESS") == "Added deviation");
    CHECK(several.header().value<int>("N_IMAGES") == 1);
    CHECK(several.header().value<double>("CUR_TEMP") == 42.9);
    CHECK_FALSE(raw.header().contains("PROCESS"));
}

TEST_CASE("subtract_bias converts a master in a convertible unit and rejects an unrelated one")
{
    auto raw = filled(2, 3, 10, "adu", "raw");
    auto per_min = filled(2, 3, 120, "adu s / min", "bias");  // 120 adu s/min = 2 adu
    const image<double> out = ccdx::subtract_bias(raw, per_min);
    CHECK(out.data()(1, 2) == doctest::Approx(8));
    CHECK(out.unit() == unit("adu"));

    auto metres = filled(2, 3, 1, "m", "bias");
    CHECK_THROWS_AS(ccdx::subtract_bias(raw, metres), ccdx::unit_error);
    CHECK_THROWS_WITH_AS(ccdx::subtract_bias(raw, metres), doctest::Contains("bias"), ccdx::unit_error);
    auto small = filled(2, 2, 1, "adu", "bias");
    CHECK_THROWS_AS(ccdx::subtract_bias(raw, small), ccdx::shape_error);
}

TEST_CASE("subtract_dark scales by the exposure ratio, from keywords or explicit times")
{
    // The reference's worked example: science 10 adu (EXPTIME 30), dark 6 +- 1 adu (EXPTIME 60).
    auto sci = filled(2, 3, 10, "adu", "sci");
    sci.header().set("EXPTIME", 30.0);
    auto dark = with_sigma(filled(2, 3, 6, "adu", "dark"), 1);
    dark.header().set("EXPTIME", 60.0);

    ccdx::dark_options by_keyword;
    by_keyword.exposure_keyword = "EXPTIME";
    by_keyword.exposure_unit = unit("s");
    by_keyword.scale = true;
    const image<double> scaled = ccdx::subtract_dark(sci, dark, by_keyword);
    CHECK(scaled.data()(0, 0) == doctest::Approx(7));
    CHECK(scaled.uncertainty()(0, 0) == doctest::Approx(0.5));
    CHECK(keyword_text(scaled, "SUBDARK") ==
          "ccd=<CCDData>, master=<CCDData>, exposure_time=EXPTIME, exposure_unit=s, scale=True");

    by_keyword.scale = false;
    const image<double> unscaled = ccdx::subtract_dark(sci, dark, by_keyword);
    CHECK(unscaled.data()(0, 0) == doctest::Approx(4));

    ccdx::dark_options explicit_times;
    explicit_times.data_exposure = quantity(30, unit("s"));
    explicit_times.dark_exposure = quantity(1, unit("min"));  // 30 s of a 1 min dark: half
    explicit_times.scale = true;
    const image<double> mixed = ccdx::subtract_dark(sci, dark, explicit_times);
    CHECK(mixed.data()(1, 2) == doctest::Approx(7));
    CHECK(keyword_text(mixed, "SUBDARK") == "ccd=<CCDData>, master=<CCDData>, dark_exposure=1.0 min, data_exposure=30.0 s, scale=True");

    // Without scaling no exposure time is needed (the reference asks for one anyway).
    const image<double> plain = ccdx::subtract_dark(sci, dark);
    CHECK(plain.data()(0, 0) == doctest::Approx(4));
}

TEST_CASE("subtract_dark errors name what is wrong")
{
    auto sci = filled(2, 3, 10, "adu", "sci");
    sci.header().set("EXPTIME", 30.0);
    auto dark = filled(2, 3, 6, "adu", "dark");

    ccdx::dark_options both;
    both.exposure_keyword = "EXPTIME";
    both.exposure_unit = unit("s");
    both.dark_exposure = quantity(60, unit("s"));
    both.data_exposure = quantity(30, unit("s"));
    CHECK_THROWS_WITH_AS(ccdx::subtract_dark(sci, dark, both), doctest::Contains("not both"), ccdx::value_error);

    ccdx::dark_options one;
    one.dark_exposure = quantity(60, unit("s"));
    CHECK_THROWS_WITH_AS(ccdx::subtract_dark(sci, dark, one), doctest::Contains("without data_exposure"),
                         ccdx::value_error);

    ccdx::dark_options nothing;
    nothing.scale = true;
    CHECK_THROWS_AS(ccdx::subtract_dark(sci, dark, nothing), ccdx::value_error);

    ccdx::dark_options no_unit;
    no_unit.exposure_keyword = "EXPTIME";
    CHECK_THROWS_WITH_AS(ccdx::subtract_dark(sci, dark, no_unit), doctest::Contains("exposure_unit"), ccdx::unit_error);

    ccdx::dark_options missing;  // the dark has no EXPTIME
    missing.exposure_keyword = "EXPTIME";
    missing.exposure_unit = unit("s");
    CHECK_THROWS_WITH_AS(ccdx::subtract_dark(sci, dark, missing), doctest::Contains("'dark'"), ccdx::keyword_error);

    auto electrons = filled(2, 3, 6, "electron", "dark");
    CHECK_THROWS_WITH_AS(ccdx::subtract_dark(sci, electrons), doctest::Contains("uncalibrated image"), ccdx::unit_error);
    auto small = filled(3, 3, 6, "adu", "dark");
    CHECK_THROWS_AS(ccdx::subtract_dark(sci, small), ccdx::shape_error);
}

TEST_CASE("flat_correct normalises by the mean, or by norm_value, after min_value")
{
    // The reference's example: 100 +- 10 over a flat [[1,2,3],[4,5,0]] +- 0.1 (mean 2.5).
    auto ccd = with_sigma(filled(2, 3, 100, "adu", "ccd"), 10);
    image<double> flat(2, 3, unit("electron"));  // the flat's unit cancels
    flat.data() = xt::xtensor<double, 2>{{1, 2, 3}, {4, 5, 0}};
    flat.set_uncertainty(xt::xtensor<double, 2>{{0.1, 0.1, 0.1}, {0.1, 0.1, 0.1}});
    flat.set_name("flat");

    const image<double> out = ccdx::flat_correct(ccd, flat);
    CHECK(out.unit() == unit("adu"));
    CHECK(out.data()(0, 0) == doctest::Approx(250));
    CHECK(out.data()(0, 2) == doctest::Approx(83.333333));
    CHECK(out.data()(1, 1) == doctest::Approx(50));
    CHECK(std::isinf(out.data()(1, 2)));
    CHECK(out.uncertainty()(0, 0) == doctest::Approx(35.355339));
    CHECK(out.uncertainty()(0, 1) == doctest::Approx(13.975425));
    CHECK(out.uncertainty()(1, 1) == doctest::Approx(5.0990195));
    CHECK(keyword_text(out, "FLATCOR") == "ccd=<CCDData>, flat=<CCDData>");

    const image<double> floored = ccdx::flat_correct(ccd, flat, 2.0);  // mean 10/3
    CHECK(floored.data()(0, 0) == doctest::Approx(150));
    CHECK(floored.data()(1, 2) == doctest::Approx(150));
    CHECK(floored.data()(1, 0) == doctest::Approx(75));
    CHECK(flat.data()(0, 0) == 1);  // the flat itself is not changed

    const image<double> by_norm = ccdx::flat_correct(ccd, flat, std::nullopt, 5.0);
    CHECK(by_norm.data()(0, 0) == doctest::Approx(500));
    CHECK(keyword_text(by_norm, "FLATCOR") == "ccd=<CCDData>, flat=<CCDData>, norm_value=5.0");

    CHECK_THROWS_WITH_AS(ccdx::flat_correct(ccd, flat, std::nullopt, -7.0), doctest::Contains("norm_value"),
                         ccdx::value_error);
    CHECK_THROWS_AS(ccdx::flat_correct(ccd, flat, std::nullopt, 0.0), ccdx::value_error);
}

TEST_CASE("flat_correct: one NaN in the flat stays one NaN pixel")
{
    auto ccd = filled(2, 2, 8, "adu", "ccd");
    image<double> flat(2, 2, unit("adu"));
    flat.data() = xt::xtensor<double, 2>{{1, 2}, {3, std::numeric_limits<double>::quiet_NaN()}};
    const image<double> out = ccdx::flat_correct(ccd, flat);  // mean of 1, 2, 3 = 2
    CHECK(out.data()(0, 0) == doctest::Approx(16));
    CHECK(out.data()(1, 0) == doctest::Approx(16.0 / 3));
    CHECK(std::isnan(out.data()(1, 1)));

    image<double> zero(2, 2, unit("adu"));
    CHECK_THROWS_WITH_AS(ccdx::flat_correct(ccd, zero), doctest::Contains("mean 0"), ccdx::value_error);
}

TEST_CASE("gain_correct multiplies data, uncertainty and unit")
{
    auto raw = with_sigma(filled(2, 2, 10, "adu", "raw"), 2);
    raw.header().set("GAIN", 1.5);
    const image<double> e = ccdx::gain_correct(raw, quantity(1.5, unit("electron / adu")));
    CHECK(e.data()(0, 0) == doctest::Approx(15));
    CHECK(e.uncertainty()(0, 0) == doctest::Approx(3));
    CHECK(e.unit() == unit("electron"));
    CHECK(keyword_text(e, "GAINCOR") == "ccd=<CCDData>, gain=1.5 electron / adu");

    const image<double> plain = ccdx::gain_correct(raw, quantity(3));  // a bare number keeps adu
    CHECK(plain.data()(1, 1) == doctest::Approx(30));
    CHECK(plain.unit() == unit("adu"));

    const image<double> from_key = ccdx::gain_correct(raw, ccdx::from_header{"GAIN", unit("electron / adu")});
    CHECK(from_key.data()(1, 0) == doctest::Approx(15));
    CHECK(from_key.unit() == unit("electron"));
    CHECK_THROWS_WITH_AS(ccdx::gain_correct(raw, ccdx::from_header{"EGAIN", unit("electron / adu")}),
                         doctest::Contains("EGAIN"), ccdx::keyword_error);
}

TEST_CASE("calibration steps chain into one expression")
{
    auto raw = filled(4, 9, 200, "adu", "raw");
    auto bias = filled(4, 9, 100, "adu", "bias");
    auto dark = filled(4, 9, 30, "adu", "dark");
    auto flat = filled(4, 9, 2, "adu", "flat");
    ccdx::dark_options o;
    o.dark_exposure = quantity(300, unit("s"));
    o.data_exposure = quantity(100, unit("s"));
    o.scale = true;
    auto e = ccdx::flat_correct(ccdx::subtract_dark(ccdx::subtract_bias(raw, bias), dark, o), flat);
    CHECK(ccdx::to_string(e) == "(raw - bias - dark * 0.3333333333333333) / (flat / 2[adu])");
    const image<double> out = e;
    CHECK(out.data()(3, 8) == doctest::Approx(90));
    for (const char* key : {"SUBBIAS", "SUBDARK", "FLATCOR"}) CHECK(out.header().contains(key));
}
