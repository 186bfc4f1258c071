#include <doctest/doctest.h>

#include <cmath>
#include <string>
#include <vector>

#include <ccdx/ccdx.hpp>
#include <ccdx/reduce/process.hpp>

#include "frames.hpp"

using ccdx::image;
using ccdx::quantity;
using ccdx::unit;
using fixtures::filled;

namespace {

// ccdproc's test_ccd_process frame: 10 adu, the last 10 columns (the overscan) 2 adu.
image<double> worked_raw()
{
    auto raw = filled(100, 100, 10, "adu", "raw");
    for (std::size_t r = 0; r < 100; ++r)
        for (std::size_t c = 90; c < 100; ++c) raw.data()(r, c) = 2;
    raw.header().set("TESTKW", 100.0);
    return raw;
}

}  // namespace

TEST_CASE("ccd_process: the reference's worked example, masters already gain-corrected")
{
    const auto raw = worked_raw();
    const auto bias = filled(100, 90, 2, "electron", "bias");
    const auto dark = filled(100, 90, 0, "electron", "dark");
    const auto flat = filled(100, 90, 10, "electron", "flat");
    xt::xtensor<ccdx::mask_t, 2> bpm = xt::zeros<ccdx::mask_t>({100, 90});
    bpm(5, 7) = 1;

    ccdx::process_options<double> o;
    o.oscan = "[91:100,1:100]";
    o.trim = "[1:90,1:100]";
    o.error = true;
    o.gain = quantity(0.5, unit("electron / adu"));
    o.readnoise = quantity(std::sqrt(5.0), unit("electron"));
    o.master_bias = &bias;
    o.dark_frame = &dark;
    o.master_flat = &flat;
    o.bad_pixel_mask = &bpm;

    const image<double> out = ccdx::ccd_process(raw, o);
    REQUIRE(out.shape() == ccdx::shape2{100, 90});
    // 10 - 2 = 8 adu -> 4 e -> 2 e after the bias -> / (10 / 10) = 2 e; sigma sqrt(0.5*8 + 5)/0.5 = 6 adu = 3 e.
    CHECK(out.data()(0, 0) == doctest::Approx(2.0));
    CHECK(out.data()(99, 89) == doctest::Approx(2.0));
    CHECK(out.uncertainty()(42, 17) == doctest::Approx(3.0));
    CHECK(out.unit() == unit("electron"));
    CHECK(out.mask()(5, 7) == 1);
    CHECK(out.mask()(5, 8) == 0);
    CHECK(out.header().value<double>("TESTKW") == 100);

    // The keywords, in the reference's order, CCDPROC last.
    std::vector<std::string> order;
    for (const auto& card : out.header().cards())
        for (const char* key : {"SUBOSCAN", "TRIMIM", "CREATVAR", "GAINCOR", "SUBBIAS", "SUBDARK", "FLATCOR", "CCDPROC"})
            if (card.keyword == key) order.push_back(key);
    CHECK(order == std::vector<std::string>{"SUBOSCAN", "TRIMIM", "CREATVAR", "GAINCOR", "SUBBIAS", "SUBDARK", "FLATCOR",
                                            "CCDPROC"});
    CHECK(out.header().value<std::string>("GAINCOR") == "ccd=<CCDData>, gain=0.5 electron / adu");
    REQUIRE(out.header().history().size() == 1);
    CHECK(out.header().history()[0] ==
          "(mark(create_deviation(raw[1:90,1:100] - overscan, 0.5 electron / adu, 2.23606797749979 electron), "
          "bad_pixel_mask) * 0.5[electron / adu] - bias - dark) / (flat / 10[electron])");
}

TEST_CASE("ccd_process with gain_corrected = false: masters in adu, gain applied last")
{
    const auto raw = worked_raw();
    const auto bias = filled(100, 90, 4, "adu", "bias");
    const auto flat = filled(100, 90, 5, "adu", "flat");
    ccdx::process_options<double> o;
    o.oscan = "[91:100,1:100]";
    o.trim = "[1:90,1:100]";
    o.error = true;
    o.gain = quantity(0.5, unit("electron / adu"));
    o.readnoise = quantity(std::sqrt(5.0), unit("electron"));
    o.master_bias = &bias;
    o.master_flat = &flat;
    o.gain_corrected = false;
    const image<double> out = ccdx::ccd_process(raw, o);
    CHECK(out.data()(3, 3) == doctest::Approx(2.0));
    CHECK(out.uncertainty()(3, 3) == doctest::Approx(3.0));
    CHECK(out.unit() == unit("electron"));
    CHECK_FALSE(out.has_mask());
}

TEST_CASE("ccd_process equals the steps one at a time")
{
    image<double> raw(30, 41, unit("adu"));
    image<double> bias(30, 41, unit("adu")), dark(30, 41, unit("adu")), flat(30, 41, unit("adu"));
    for (std::size_t r = 0; r < 30; ++r)
        for (std::size_t c = 0; c < 41; ++c) {
            raw.data()(r, c) = 1000 + 37.0 * std::sin(double(r * 41 + c));
            bias.data()(r, c) = 100 + double(c % 7);
            dark.data()(r, c) = 3 + 0.1 * double(r % 5);
            flat.data()(r, c) = 0.9 + 0.01 * double((r + c) % 20);
        }
    xt::xtensor<double, 2> sigma = xt::ones<double>({30, 41}) * 0.5;
    bias.set_uncertainty(sigma);
    dark.set_uncertainty(sigma);
    raw.header().set("EXPTIME", 60.0);
    dark.header().set("EXPTIME", 120.0);

    ccdx::dark_options d;
    d.exposure_keyword = "EXPTIME";
    d.exposure_unit = unit("s");
    d.scale = true;
    const quantity gain(1.5, unit("electron / adu")), rn(7, unit("electron"));

    const image<double> stepwise = ccdx::flat_correct(
        ccdx::subtract_dark(ccdx::subtract_bias(ccdx::create_deviation(raw, gain, rn), bias), dark, d), flat, 0.95);
    ccdx::process_options<double> o;
    o.error = true;
    o.gain = gain;
    o.readnoise = rn;
    o.gain_corrected = false;
    o.master_bias = &bias;
    o.dark_frame = &dark;
    o.master_flat = &flat;
    o.min_value = 0.95;
    o.dark = d;
    const image<double> once = ccdx::ccd_process(raw, o);
    for (std::size_t r = 0; r < 30; ++r)
        for (std::size_t c = 0; c < 41; ++c) {
            CHECK(once.data()(r, c) == doctest::Approx(stepwise.data()(r, c) * 1.5).epsilon(1e-12));
            CHECK(once.uncertainty()(r, c) == doctest::Approx(stepwise.uncertainty()(r, c) * 1.5).epsilon(1e-12));
        }
}

TEST_CASE("ccd_process without any step is the raw frame with a CCDPROC record")
{
    const auto raw = worked_raw();
    const image<double> out = ccdx::ccd_process(raw, ccdx::process_options<double>{});
    CHECK(out.data() == raw.data());
    CHECK_FALSE(out.has_uncertainty());
    CHECK(out.header().value<std::string>("CCDPROC") == "ccd=<CCDData>");
    CHECK_FALSE(out.header().contains("SUBBIAS"));
}

TEST_CASE("ccd_process with add_keyword: its own record replaced, the steps' records kept, as in ccdproc")
{
    const auto raw = worked_raw();
    auto bias = raw;
    bias.data().fill(1.0);
    ccdx::process_options<double> o;
    o.master_bias = &bias;
    o.add_keyword = std::vector<ccdx::card>{};
    const image<double> out = ccdx::ccd_process(raw, o);
    CHECK_FALSE(out.header().contains("CCDPROC"));
    CHECK_FALSE(out.header().contains("CCD_PROCESS"));
    CHECK(out.header().value<std::string>("SUBBIAS") == "ccd=<CCDData>, master=<CCDData>");
    o.add_keyword = std::vector<ccdx::card>{{"REDUCED", true, "by the night's script"}};
    const image<double> flagged = ccdx::ccd_process(raw, o);
    CHECK(flagged.header().value<bool>("REDUCED"));
}

TEST_CASE("ccd_process errors")
{
    const auto raw = worked_raw();
    ccdx::process_options<double> o;
    o.error = true;
    o.gain = quantity(0.5, unit("electron / adu"));
    CHECK_THROWS_WITH_AS(ccdx::ccd_process(raw, o), doctest::Contains("readnoise"), ccdx::value_error);

    ccdx::process_options<double> bad_mask;
    xt::xtensor<ccdx::mask_t, 2> bpm = xt::zeros<ccdx::mask_t>({100, 100});
    bad_mask.trim = "[1:90,*]";
    bad_mask.bad_pixel_mask = &bpm;  // the untrimmed shape
    CHECK_THROWS_WITH_AS(ccdx::ccd_process(raw, bad_mask), doctest::Contains("bad_pixel_mask"), ccdx::shape_error);

    ccdx::process_options<double> bad_section;
    bad_section.oscan = "[91:101,*]";
    CHECK_THROWS_AS(ccdx::ccd_process(raw, bad_section), ccdx::section_error);

    const auto bias = filled(100, 100, 2, "adu", "bias");  // adu, but gain-corrected masters must be electron
    ccdx::process_options<double> units;
    units.gain = quantity(0.5, unit("electron / adu"));
    units.master_bias = &bias;
    CHECK_THROWS_AS(ccdx::ccd_process(raw, units), ccdx::unit_error);

    ccdx::process_options<double> rn_unit;
    rn_unit.error = true;
    rn_unit.gain = quantity(0.5, unit("electron / adu"));
    rn_unit.readnoise = quantity(5, unit("adu"));
    CHECK_THROWS_AS(ccdx::ccd_process(raw, rn_unit), ccdx::unit_error);
}
