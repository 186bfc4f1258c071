// The ccdproc tutorial (the Astropy workshop's "ccdproc overview" notebook), end to end in C++
// on its own frames: a raw 90 s frame of KELT-16 b and the master bias, dark and flat.
//
//   demo [OUTPUT_FOLDER]        (default: ./ccdx-demo)
//
// It reduces the frame step by step, then with one ccd_process, then as the one-line formula;
// copies the raw frame into a folder of five, finds the light frames in r by their headers,
// reduces each into another folder and prints the collection's table. PNG previews of the raw,
// intermediate and reduced frames are written into the output folder, as the notebook shows them.

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <string>

#include <ccdx/ccdx.hpp>
#include <ccdx/core/statistics.hpp>
#include <ccdx/display/preview.hpp>
#include <ccdx/io/collection.hpp>
#include <ccdx/io/fits.hpp>
#include <ccdx/reduce/calibrate.hpp>
#include <ccdx/reduce/process.hpp>

namespace fs = std::filesystem;

namespace {

fs::path out_dir;

void section(const std::string& title) { std::cout << "\n== " << title << "\n"; }

// One line about an image: shape, unit, and the numbers an astronomer looks at first.
void describe(const std::string& label, const ccdx::image<float>& img)
{
    std::printf("  %-20s %zu x %zu %-9s median %8.2f  min %8.2f  max %8.2f", label.c_str(), img.rows(), img.cols(),
                ccdx::to_string(img.unit()).c_str(), ccdx::median(img), double(xt::amin(img.data())()),
                double(xt::amax(img.data())()));
    if (img.has_uncertainty()) std::printf("  median sigma %.2f", ccdx::median(img.uncertainty().begin(), img.uncertainty().end()));
    std::printf("\n");
}

// A PNG of the frame next to the other outputs: zscale limits, asinh stretch.
void show(const ccdx::image<float>& img, const std::string& name)
{
    ccdx::preview_options o;
    o.overwrite = true;
    const auto lim = ccdx::write_preview(img, out_dir / name, o);
    std::printf("  preview %-30s (display %.1f to %.1f)\n", (out_dir / name).filename().string().c_str(), lim.low, lim.high);
}

// The largest absolute and relative difference between two planes.
template <class P>
void compare(const char* what, const P& a, const P& b)
{
    double abs_max = 0, rel_max = 0;
    for (std::size_t i = 0; i < a.size(); ++i) {
        const double x = a.data()[i], y = b.data()[i];
        if (std::isnan(x) && std::isnan(y)) continue;
        abs_max = std::max(abs_max, std::abs(x - y));
        if (y != 0) rel_max = std::max(rel_max, std::abs(x - y) / std::abs(y));
    }
    if (abs_max == 0)
        std::printf("  %-12s identical\n", what);
    else
        std::printf("  %-12s max |difference| %.3g (relative %.2g: float rounding)\n", what, abs_max, rel_max);
}

}  // namespace

int main(int argc, char** argv)
try {
    const fs::path data = CCDX_EXAMPLE_DATA_DIR;
    out_dir = argc > 1 ? fs::path(argv[1]) : fs::path("ccdx-demo");
    fs::create_directories(out_dir);
    std::cout << "ccdx demo: the ccdproc tutorial on its own frames; output in " << out_dir.string() << "\n";

    section("Load an image");
    const ccdx::image<float> raw_stars = ccdx::read_fits<float>(data / "kelt-16-b-S001-R001-C084-r.fit.gz");
    const auto& h = raw_stars.header();
    std::cout << "  " << raw_stars.name() << ": " << h.value<std::string>("IMAGETYP") << " of "
              << h.value<std::string>("OBJECT") << ", filter " << h.value<std::string>("FILTER") << ", exposure "
              << h.value<double>("EXPOSURE") << " s, " << h.size() << " header cards\n";
    describe("raw", raw_stars);
    show(raw_stars, "01-raw.png");

    section("Bias subtraction: subtract_bias(raw, bias)");
    const auto bias = ccdx::read_fits<float>(data / "combined_bias.fit.gz");
    describe("master bias", bias);
    const ccdx::image<float> stars_minus_bias = ccdx::subtract_bias(raw_stars, bias);
    describe("raw - bias", stars_minus_bias);
    std::cout << "  SUBBIAS = " << stars_minus_bias.header().value<std::string>("SUBBIAS") << "\n";
    show(stars_minus_bias, "02-minus-bias.png");

    section("Dark subtraction: subtract_dark(..., dark, exposure keyword 'exposure' in s)");
    const auto dark = ccdx::read_fits<float>(data / "combined_dark_90.000.fit.gz");
    describe("master dark", dark);
    ccdx::dark_options by_exposure;
    by_exposure.exposure_keyword = "exposure";
    by_exposure.exposure_unit = ccdx::unit("s");
    const ccdx::image<float> stars_minus_dark = ccdx::subtract_dark(stars_minus_bias, dark, by_exposure);
    describe("- dark", stars_minus_dark);
    // The hot pixels: bright in the dark, so bright in the raw frame; the dark removes them.
    for (std::size_t r = 0; r < dark.rows(); ++r)
        for (std::size_t c = 0; c < dark.cols(); ++c)
            if (dark.data()(r, c) > 500)
                std::printf("  hot pixel (x %3zu, y %3zu): dark %7.1f  raw - bias %7.1f  after the dark %6.1f\n", c + 1,
                            r + 1, double(dark.data()(r, c)), double(stars_minus_bias.data()(r, c)),
                            double(stars_minus_dark.data()(r, c)));
    show(stars_minus_dark, "03-minus-dark.png");

    section("Flat correction: flat_correct(..., flat)");
    const auto flat = ccdx::read_fits<float>(data / "combined_flat_filter_r.fit.gz");
    describe("master flat", flat);
    const ccdx::image<float> stars_calibrated = ccdx::flat_correct(stars_minus_dark, flat);
    describe("calibrated", stars_calibrated);
    std::cout << "  the uncertainty of the bias and dark came along: every step propagated it\n";
    show(stars_calibrated, "04-calibrated.png");

    section("All at once: ccd_process(raw, bias, dark scaled by exposure, flat)");
    ccdx::process_options<float> steps;
    steps.master_bias = &bias;
    steps.dark_frame = &dark;
    steps.master_flat = &flat;
    steps.dark = by_exposure;
    steps.dark.scale = true;
    const auto t0 = std::chrono::steady_clock::now();
    const ccdx::image<float> processed = ccdx::ccd_process(raw_stars, steps);
    const auto t1 = std::chrono::steady_clock::now();
    std::printf("  one pass over the pixels: %.3f ms\n", std::chrono::duration<double, std::milli>(t1 - t0).count());
    std::cout << "  HISTORY " << processed.header().history().back() << "\n";
    std::cout << "  ccd_process against the three steps:\n";
    compare("data", processed.data(), stars_calibrated.data());
    compare("uncertainty", processed.uncertainty(), stars_calibrated.uncertainty());

    section("As the formula: (raw - bias - dark) / (flat / mean(flat))");
    const ccdx::quantity flat_mean(ccdx::mean(flat), flat.unit());
    const ccdx::image<float> by_formula = (raw_stars - bias - dark) / (flat / flat_mean);
    compare("data", by_formula.data(), stars_calibrated.data());
    compare("uncertainty", by_formula.uncertainty(), stars_calibrated.uncertainty());

    section("A folder of images: five copies of the raw frame, a collection, reduced one by one");
    const fs::path copies = out_dir / "data-copy";
    const fs::path reduced = out_dir / "data-reduced";
    fs::remove_all(copies);
    fs::remove_all(reduced);
    fs::create_directories(copies);
    fs::create_directories(reduced);
    for (int i = 0; i < 5; ++i) ccdx::write_fits(raw_stars, copies / ("kelt-16-copy-" + std::to_string(i) + ".fit"));
    const ccdx::image_collection ifc(copies);
    std::cout << ifc.summary({"imagetyp", "filter", "exposure", "object"});

    const auto lights = ifc.filter({{"imagetyp", "light"}, {"filter", "r"}});
    std::cout << "  " << lights.size() << " light frames in r; reducing each into " << reduced.string() << "\n";
    for (auto& frame : lights.ccds(reduced)) {
        ccdx::image<float> done = ccdx::ccd_process(frame.image, steps);
        frame.image = std::move(done);  // written under the same name when the loop moves on
        std::cout << "  reduced " << frame.file << "\n";
    }
    const ccdx::image_collection results(reduced);
    std::cout << results.summary({"imagetyp", "bunit", "subbias", "flatcor"}).rows().size() << " reduced frames:\n";
    results.summary({"imagetyp", "exposure", "ccdproc"}).print(std::cout);
    const auto reread = ccdx::read_fits<float>(reduced / "kelt-16-copy-0.fit");
    std::cout << "  a reduced file read back against ccd_process:\n";
    compare("data", reread.data(), processed.data());
    show(reread, "05-reduced-copy-0.png");

    std::cout << "\ndone: previews and FITS files in " << out_dir.string() << "\n";
    return 0;
} catch (const std::exception& e) {
    std::cerr << "demo: " << e.what() << "\n";
    return 1;
}
