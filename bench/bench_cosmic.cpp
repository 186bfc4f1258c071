// Cosmic rays and bad pixels on a 2048 x 2048 frame: cosmicray_lacosmic, cosmicray_median,
// ccdmask and the median filter under them.
//
// With CCDX_COSMIC_DIR set to a folder written by cosmic_reference.py, the frames are the very
// ones the reference (ccdproc, astroscrappy) was timed on, and each benchmark also reports how
// well its mask agrees with the reference's: pixels found by both / found by either
// (`agree`), and for L.A.Cosmic the fraction of the injected hit pixels found (`truth_found`).
// Without it, a synthetic star field of the same kind is made here (timing only).

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <string>

#include <benchmark/benchmark.h>

#include <ccdx/detect/ccdmask.hpp>
#include <ccdx/detect/cosmicray.hpp>
#include <ccdx/detect/median_filter.hpp>
#include <ccdx/io/fits.hpp>

#include "bandwidth.hpp"

namespace {

namespace fs = std::filesystem;
using frame = ccdx::image<float>;

fs::path reference_dir()
{
    const char* dir = std::getenv("CCDX_COSMIC_DIR");
    return dir && *dir ? fs::path(dir) : fs::path();
}

// Star field with hits, as cosmic_reference.py makes it (not the same random numbers).
frame synthetic_frame(std::size_t n)
{
    std::mt19937_64 rng(2001);
    std::uniform_real_distribution<double> uni(0.0, 1.0);
    xt::xtensor<float, 2> img = xt::xtensor<float, 2>::from_shape({n, n});
    std::vector<double> sky(n * n, 300.0);
    const double sigma = 3.0 / 2.3548;
    for (int s = 0; s < 400; ++s) {
        const double y = 10 + uni(rng) * double(n - 20), x = 10 + uni(rng) * double(n - 20);
        const double flux = std::pow(10.0, 3 + 3.3 * uni(rng));
        for (long dy = -8; dy <= 8; ++dy)
            for (long dx = -8; dx <= 8; ++dx) {
                const long yy = long(y) + dy, xx = long(x) + dx;
                if (yy < 0 || xx < 0 || yy >= long(n) || xx >= long(n)) continue;
                const double r2 = (double(yy) - y) * (double(yy) - y) + (double(xx) - x) * (double(xx) - x);
                sky[std::size_t(yy) * n + std::size_t(xx)] +=
                    flux / (2 * M_PI * sigma * sigma) * std::exp(-r2 / (2 * sigma * sigma));
            }
    }
    std::normal_distribution<double> unit_normal(0.0, 1.0);
    for (std::size_t i = 0; i < n * n; ++i)
        img.data()[i] = float(std::min(65535.0, sky[i] + std::sqrt(sky[i] + 6.5 * 6.5) * unit_normal(rng)));
    for (int h = 0; h < 300; ++h) {
        const auto y = std::size_t(5 + uni(rng) * double(n - 10)), x = std::size_t(5 + uni(rng) * double(n - 10));
        for (std::size_t k = 0; k < 1 + std::size_t(uni(rng) * 4); ++k) img(y, x + k) += float(300 + 4700 * uni(rng));
    }
    frame out(std::move(img), ccdx::unit("adu"));
    xt::xtensor<float, 2> sd = xt::sqrt(xt::maximum(out.data(), 0.0f) + 6.5f * 6.5f);
    out.set_uncertainty(std::move(sd));
    return out;
}

struct inputs {
    frame science;
    frame ratio;
    fs::path dir;  // empty when synthetic
};

const inputs& data()
{
    static const inputs in = [] {
        inputs r;
        r.dir = reference_dir();
        if (!r.dir.empty()) {
            r.science = ccdx::read_fits<float>(r.dir / "cosmic_frame.fits");
            ccdx::read_options dimensionless;
            dimensionless.unit = ccdx::unit();
            r.ratio = ccdx::read_fits<float>(r.dir / "ccdmask_ratio.fits", dimensionless);
        } else {
            r.science = synthetic_frame(2048);
            std::mt19937_64 rng(7);
            std::normal_distribution<float> noise(1.0f, 0.01f);
            xt::xtensor<float, 2> ratio = xt::xtensor<float, 2>::from_shape({2048, 2048});
            for (auto& v : ratio) v = noise(rng);
            for (std::size_t y = 0; y < 2048; ++y) ratio(y, 700) *= 0.85f;
            r.ratio = frame(std::move(ratio), ccdx::unit());
        }
        return r;
    }();
    return in;
}

// Reports agreement of `mine` (nonzero = found) with the reference mask file, if there is one.
template <class M>
void report_agreement(benchmark::State& state, const M& mine, const char* reference_file)
{
    const fs::path dir = data().dir;
    if (dir.empty()) return;
    ccdx::read_options o;
    o.unit = ccdx::unit();
    const auto ref = ccdx::read_fits<float>(dir / reference_file, o);
    double both = 0, either = 0;
    for (std::size_t i = 0; i < ref.size(); ++i) {
        const bool a = mine.data()[i] != 0, b = ref.data().data()[i] != 0;
        both += a && b;
        either += a || b;
    }
    state.counters["found_both"] = both;
    state.counters["found_either"] = either;
    state.counters["agree"] = either > 0 ? both / either : 1.0;
    if (std::string(reference_file) == "ref_lacosmic.fits" && fs::exists(dir / "cosmic_truth.fits")) {
        const auto truth = ccdx::read_fits<float>(dir / "cosmic_truth.fits", o);
        double hit = 0, found = 0;
        for (std::size_t i = 0; i < truth.size(); ++i)
            if (truth.data().data()[i] != 0) hit += 1, found += mine.data()[i] != 0;
        state.counters["truth_found"] = hit > 0 ? found / hit : 1.0;
    }
}

void BM_cosmicray_lacosmic(benchmark::State& state)
{
    const frame& in = data().science;
    ccdx::lacosmic_options o;
    o.gain_apply = false;
    frame out;
    for (auto _ : state) {
        out = ccdx::cosmicray_lacosmic(in, o);
        benchmark::DoNotOptimize(out.data().data());
    }
    ccdx::bench::report_bytes(state, double(in.size() * sizeof(float)));
    report_agreement(state, out.mask(), "ref_lacosmic.fits");
}

void BM_cosmicray_median(benchmark::State& state)
{
    const frame& in = data().science;
    frame out;
    for (auto _ : state) {
        out = ccdx::cosmicray_median(in);  // error = the uncertainty, thresh 5, mbox 11
        benchmark::DoNotOptimize(out.data().data());
    }
    ccdx::bench::report_bytes(state, double(in.size() * 2 * sizeof(float)));
    report_agreement(state, out.mask(), "ref_median.fits");
}

void BM_ccdmask(benchmark::State& state)
{
    const frame& in = data().ratio;
    xt::xtensor<bool, 2> mask;
    for (auto _ : state) {
        mask = ccdx::ccdmask(in);
        benchmark::DoNotOptimize(mask.data());
    }
    ccdx::bench::report_bytes(state, double(in.size() * sizeof(float)));
    report_agreement(state, mask, "ref_ccdmask.fits");
}

void BM_median_filter(benchmark::State& state)
{
    const auto size = static_cast<std::size_t>(state.range(0));
    const auto& in = data().science.data();
    for (auto _ : state) {
        auto m = ccdx::median_filter(in, size);
        benchmark::DoNotOptimize(m.data());
    }
    ccdx::bench::report_bytes(state, double(in.size() * sizeof(float)));
}

}  // namespace

BENCHMARK(BM_cosmicray_lacosmic)->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(2.0);
BENCHMARK(BM_cosmicray_median)->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(2.0);
BENCHMARK(BM_ccdmask)->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(2.0);
BENCHMARK(BM_median_filter)->ArgName("box")->Arg(3)->Arg(7)->Arg(11)->Arg(15)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_MAIN();
