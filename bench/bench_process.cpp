// ccd_process on a 4096 x 4096 float frame: deviation from gain and read noise, bad-pixel mask,
// gain, bias, dark scaled by exposure time, flat; masters with uncertainty. The pass reads raw
// (4 B/pixel), bias, dark and flat with their uncertainty (3 x 8 B) and the mask (1 B), and
// writes value, uncertainty and mask (9 B): 38 B/pixel, the bytes every variant reports.
//   process        the whole ccd_process call: the flat's mean (an extra read of the flat)
//                  and the one pass
//   process_pass   the pass alone (the expression built once, evaluated each iteration)
//   stepwise       the same steps one at a time, each evaluated into a temporary image
//   same_streams   reads and writes exactly the planes the pass touches, trivially: the floor
// Compare with ccdproc: bench/process_reference.py. Argument: threads (0 = all).

#include <benchmark/benchmark.h>

#include <random>

#include <ccdx/ccdx.hpp>
#include <ccdx/reduction.hpp>

#include "bandwidth.hpp"

using namespace ccdx;

namespace {

constexpr std::size_t side = 4096;
constexpr double bytes_per_pixel = 38;

struct frame_set {
    image<float> raw, bias, dark, flat;
    xt::xtensor<mask_t, 2> bad_pixels;
    process_options<float> options;
};

image<float> make_frame(std::mt19937& rng, float level, float spread, float sigma, const char* name)
{
    std::normal_distribution<float> pixel(level, spread);
    image<float> img(side, side, unit("adu"));
    for (auto& v : img.data()) v = pixel(rng);
    if (sigma > 0) {
        auto s = image<float>::plane::from_shape({side, side});
        s.fill(sigma);
        img.set_uncertainty(std::move(s));
    }
    img.set_name(name);
    return img;
}

const frame_set& frames()
{
    static const frame_set set = [] {
        std::mt19937 rng(4);
        frame_set s{make_frame(rng, 1200, 12, 0, "raw"), make_frame(rng, 1000, 5, 1, "bias"),
                    make_frame(rng, 40, 3, 0.5f, "dark"), make_frame(rng, 1, 0.01f, 0.001f, "flat"), {}, {}};
        s.raw.header().set("EXPTIME", 30.0);
        s.dark.header().set("EXPTIME", 90.0);
        std::bernoulli_distribution bad(0.001);
        s.bad_pixels = xt::xtensor<mask_t, 2>::from_shape({side, side});
        for (auto& v : s.bad_pixels) v = bad(rng) ? 1 : 0;
        return s;
    }();
    return set;
}

// The options are built per use: they point into the frames.
process_options<float> options_for(const frame_set& f)
{
    process_options<float> o;
    o.error = true;
    o.gain = quantity(1.5, unit("electron / adu"));
    o.readnoise = quantity(10, unit("electron"));
    o.gain_corrected = false;  // the masters are in adu
    o.bad_pixel_mask = &f.bad_pixels;
    o.master_bias = &f.bias;
    o.dark_frame = &f.dark;
    o.master_flat = &f.flat;
    o.dark.exposure_keyword = "EXPTIME";
    o.dark.exposure_unit = unit("s");
    o.dark.scale = true;
    o.history = false;
    return o;
}

int threads_of(const benchmark::State& state) { return static_cast<int>(state.range(0)); }

void BM_process(benchmark::State& state)
{
    const frame_set& f = frames();
    const auto o = options_for(f);
    const eval_options threads{threads_of(state)};
    image<float> out;
    eval_into(ccd_process(f.raw, o), out, threads);  // allocate and touch once
    for (auto _ : state) {
        eval_into(ccd_process(f.raw, o), out, threads);
        benchmark::ClobberMemory();
    }
    bench::report_bytes(state, bytes_per_pixel * double(side * side));
}

void BM_process_pass(benchmark::State& state)
{
    const frame_set& f = frames();
    const auto o = options_for(f);
    const eval_options threads{threads_of(state)};
    const auto reduction = ccd_process(f.raw, o);
    image<float> out;
    eval_into(reduction, out, threads);
    for (auto _ : state) {
        eval_into(reduction, out, threads);
        benchmark::ClobberMemory();
    }
    bench::report_bytes(state, bytes_per_pixel * double(side * side));
}

// What a step-at-a-time pipeline does (ccdproc's way, each step a new array set).
void BM_stepwise(benchmark::State& state)
{
    const frame_set& f = frames();
    const auto o = options_for(f);
    const eval_options threads{threads_of(state)};
    for (auto _ : state) {
        image<float> raw = f.raw;  // ccdproc copies its input first
        raw.set_mask(f.bad_pixels);
        const image<float> deviated = eval(create_deviation(raw, *o.gain, *o.readnoise), threads);
        const image<float> debiased = eval(subtract_bias(deviated, f.bias), threads);
        const image<float> darkened = eval(subtract_dark(debiased, f.dark, o.dark), threads);
        const image<float> flattened = eval(flat_correct(darkened, f.flat), threads);
        const image<float> out = eval(gain_correct(flattened, *o.gain), threads);
        benchmark::DoNotOptimize(out.data().data());
        benchmark::ClobberMemory();
    }
    bench::report_bytes(state, bytes_per_pixel * double(side * side));
}

void BM_same_streams(benchmark::State& state)
{
    const frame_set& f = frames();
    image<float>::plane values = image<float>::plane::from_shape({side, side}), sigmas = values;
    image<float>::mask_plane mask = image<float>::mask_plane::from_shape({side, side});
    const bench::stream_set<4, 3, 1> s{
        {f.raw.data().data(), f.bias.data().data(), f.dark.data().data(), f.flat.data().data()},
        values.data(),
        {f.bias.uncertainty().data(), f.dark.uncertainty().data(), f.flat.uncertainty().data()},
        sigmas.data(),
        {f.bad_pixels.data()},
        mask.data()};
    bench::same_streams(s, side * side, threads_of(state));  // touch the outputs once
    for (auto _ : state) {
        bench::same_streams(s, side * side, threads_of(state));
        benchmark::ClobberMemory();
    }
    bench::report_bytes(state, bytes_per_pixel * double(side * side));
}

void thread_args(benchmark::internal::Benchmark* b)
{
    b->ArgName("threads")->Arg(1)->Arg(0)->Unit(benchmark::kMillisecond)->UseRealTime();
}

}  // namespace

BENCHMARK(BM_process)->Apply(thread_args);
BENCHMARK(BM_process_pass)->Apply(thread_args);
BENCHMARK(BM_same_streams)->Apply(thread_args);
BENCHMARK(BM_stepwise)->Apply(thread_args);

BENCHMARK_MAIN();
