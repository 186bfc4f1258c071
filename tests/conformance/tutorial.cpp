// The ccdproc tutorial, reproduced on its real frames (tests/data/feder_aspen_workshop: a raw
// KELT-16 b light frame and the master bias, 90 s dark and r flat of the same night).
//
// The reference results were computed once with ccdproc 2.4.0 by
// tests/data/make_tutorial_reference.py and stored beside the frames:
//   reference_steps.fits.gz              subtract_bias -> subtract_dark -> flat_correct (and,
//                                        bit-identical, the same reduction by one ccd_process)
//   reference_ccd_process_error.fits.gz  ccd_process with error=True, gain 1.5 electron/adu,
//                                        read noise 10 electron, gain_corrected=False
// ccdproc computes in float64 from the uint16 light; ccdx here in float, as a user would.

#include <doctest/doctest.h>

#include <cmath>
#include <filesystem>
#include <string>

#include <ccdx/ccdx.hpp>
#include <ccdx/io/fits.hpp>
#include <ccdx/reduction.hpp>

using ccdx::image;
using ccdx::quantity;
using ccdx::unit;

namespace {

const std::filesystem::path frames = std::filesystem::path(CCDX_TEST_DATA_DIR) / "feder_aspen_workshop";

template <class T = float>
image<T> frame(const char* file)
{
    ccdx::read_options o;
    if (!ccdx::read_fits_header(frames / file).contains("BUNIT")) o.unit = unit("adu");  // the raw light has none
    return ccdx::read_fits<T>(frames / file, o);
}

struct masters {
    image<float> light = frame("kelt-16-b-S001-R001-C084-r.fit.gz");
    image<float> bias = frame("combined_bias.fit.gz");
    image<float> dark = frame("combined_dark_90.000.fit.gz");
    image<float> flat = frame("combined_flat_filter_r.fit.gz");
};

ccdx::dark_options tutorial_dark()
{
    ccdx::dark_options d;
    d.exposure_keyword = "exposure";
    d.exposure_unit = unit("s");
    d.scale = true;
    return d;
}

// Largest |a - e| / (atol + rtol |e|) over the plane: <= 1 means within tolerance. NaN must
// meet NaN.
template <class A, class E>
double worst(const A& actual, const E& expected, double rtol, double atol)
{
    REQUIRE(actual.shape() == expected.shape());
    double w = 0;
    for (std::size_t i = 0; i < expected.size(); ++i) {
        const double a = actual.data()[i], e = expected.data()[i];
        if (std::isnan(e) || std::isnan(a)) {
            if (std::isnan(e) != std::isnan(a)) return INFINITY;
            continue;
        }
        w = std::max(w, std::abs(a - e) / (atol + rtol * std::abs(e)));
    }
    return w;
}

}  // namespace

TEST_CASE("tutorial: step by step, as one chain and as ccd_process, all equal and equal to ccdproc")
{
    const masters m;
    const auto reference = ccdx::read_fits<double>(frames / "reference_steps.fits.gz");

    // One step at a time, each evaluated into its own image, as the tutorial does.
    const image<float> debiased = ccdx::subtract_bias(m.light, m.bias);
    const image<float> dark_subtracted = ccdx::subtract_dark(debiased, m.dark, tutorial_dark());
    const image<float> stepwise = ccdx::flat_correct(dark_subtracted, m.flat);

    // The same calls nested: one pass.
    const image<float> chained =
        ccdx::flat_correct(ccdx::subtract_dark(ccdx::subtract_bias(m.light, m.bias), m.dark, tutorial_dark()), m.flat);

    ccdx::process_options<float> o;
    o.master_bias = &m.bias;
    o.dark_frame = &m.dark;
    o.master_flat = &m.flat;
    o.dark = tutorial_dark();
    const image<float> processed = ccdx::ccd_process(m.light, o);

    CHECK(worst(chained, stepwise, 1e-6, 1e-5) <= 1);
    CHECK(worst(processed, stepwise, 1e-6, 1e-5) <= 1);
    CHECK(worst(processed.uncertainty(), stepwise.uncertainty(), 1e-6, 1e-5) <= 1);

    // Against ccdproc (float64 there): well inside float's precision on values near 50 adu
    // that came from differences of numbers near 1100.
    CHECK(worst(processed, reference, 1e-5, 2e-4) <= 1);
    CHECK(worst(processed.uncertainty(), reference.uncertainty(), 1e-5, 2e-4) <= 1);
    CHECK(worst(stepwise, reference, 1e-5, 2e-4) <= 1);
    CHECK(processed.unit() == reference.unit());
    CHECK_FALSE(processed.has_mask());
    for (const char* key : {"SUBBIAS", "SUBDARK", "FLATCOR", "CCDPROC"}) CHECK(processed.header().contains(key));
    CHECK(processed.header().value<std::string>("IMAGETYP") == "LIGHT");
}

TEST_CASE("tutorial: ccd_process with a deviation and the gain last matches ccdproc")
{
    const masters m;
    const auto reference = ccdx::read_fits<double>(frames / "reference_ccd_process_error.fits.gz");

    ccdx::process_options<float> o;
    o.error = true;
    o.gain = quantity(1.5, unit("electron / adu"));
    o.readnoise = quantity(10, unit("electron"));
    o.master_bias = &m.bias;
    o.dark_frame = &m.dark;
    o.master_flat = &m.flat;
    o.dark = tutorial_dark();
    o.gain_corrected = false;
    const image<float> processed = ccdx::ccd_process(m.light, o);

    CHECK(processed.unit() == unit("electron"));
    CHECK(reference.unit() == unit("electron"));
    CHECK(worst(processed, reference, 1e-5, 3e-4) <= 1);
    CHECK(worst(processed.uncertainty(), reference.uncertainty(), 1e-5, 3e-4) <= 1);

    // The same with the frames read as double: the residual is float rounding, not method.
    const image<double> light = frame<double>("kelt-16-b-S001-R001-C084-r.fit.gz");
    const image<double> bias = frame<double>("combined_bias.fit.gz"), dark = frame<double>("combined_dark_90.000.fit.gz"),
                        flat = frame<double>("combined_flat_filter_r.fit.gz");
    ccdx::process_options<double> od;
    od.error = true;
    od.gain = o.gain;
    od.readnoise = o.readnoise;
    od.master_bias = &bias;
    od.dark_frame = &dark;
    od.master_flat = &flat;
    od.dark = tutorial_dark();
    od.gain_corrected = false;
    const image<double> precise = ccdx::ccd_process(light, od);
    // The reference is stored as float32: half an ulp of float is the floor here.
    CHECK(worst(precise, reference, 1e-7, 1e-5) <= 1);
    CHECK(worst(precise.uncertainty(), reference.uncertainty(), 1e-7, 1e-5) <= 1);
}
