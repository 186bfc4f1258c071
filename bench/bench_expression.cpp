// The reduction formula (raw - bias - dark * s) / flat on 4096 x 4096 float frames:
//   fused        ccdx's single pass
//   formula      the same formula typed at run time (ccdx::formula, as `ccdx calc` runs it):
//                node by node over blocks, into a new image each time
//   naive        one temporary array per operation, as numpy and ccdproc evaluate it
//   xtensor      the same formula as a plain xtensor expression (values only)
//   same_streams reads and writes exactly the planes the fused pass touches, trivially: the floor
//   triad        STREAM's a = b + s c
// Formula variants report the bytes the formula must move (20 B/pixel values only; 45 B/pixel
// with uncertainty and mask: 8 float planes and 4 mask planes in, 2 float planes and 1 mask
// plane out), so bytes_per_second compares them directly. Argument 0 is the thread count
// (0 = all), argument 1 whether uncertainty and mask are carried.

// xt::sqrt inlines GCC 12's AVX-512 sqrt intrinsic, which warns falsely (GCC bug 105593).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

#include <benchmark/benchmark.h>

#include <array>
#include <map>
#include <random>
#include <string>

#include <ccdx/ccdx.hpp>
#include <ccdx/expr/formula.hpp>
#include <xtensor/xnoalias.hpp>

#include "bandwidth.hpp"


using namespace ccdx;

namespace {

constexpr std::size_t side = 4096;
constexpr float dark_scale = 0.3f;

struct frame_set {
    image<float> raw, bias, dark, flat;
};

image<float> make_frame(std::mt19937& rng, float level, float spread, bool full)
{
    std::normal_distribution<float> pixel(level, spread);
    std::bernoulli_distribution bad(0.001);
    image<float> img(side, side, full || level > 0.5f ? unit("adu") : unit());
    for (auto& v : img.data()) v = pixel(rng);
    if (full) {
        auto s = image<float>::plane::from_shape({side, side});
        for (auto& v : s) v = spread;
        img.set_uncertainty(std::move(s));
        auto m = image<float>::mask_plane::from_shape({side, side});
        for (auto& v : m) v = bad(rng) ? 1 : 0;
        img.set_mask(std::move(m));
    }
    return img;
}

const frame_set& frames(bool full)
{
    static const auto make = [](bool f) {
        std::mt19937 rng(f ? 1 : 2);
        frame_set s{make_frame(rng, 1200, 12, f), make_frame(rng, 1000, 5, f), make_frame(rng, 40, 3, f),
                    make_frame(rng, 1, 0.01f, f)};
        s.flat.set_unit(unit());
        return s;
    };
    static const frame_set plain = make(false), with_uncertainty = make(true);
    return full ? with_uncertainty : plain;
}

double formula_bytes(bool full) { return double(side * side) * (full ? 45.0 : 20.0); }

int threads_of(const benchmark::State& state) { return static_cast<int>(state.range(0)); }

void BM_fused(benchmark::State& state)
{
    const bool full = state.range(1) != 0;
    const frame_set& f = frames(full);
    image<float> out;
    const eval_options options{threads_of(state)};
    eval_into((f.raw - f.bias - f.dark * dark_scale) / f.flat, out, options);  // allocate and touch once
    for (auto _ : state) {
        eval_into((f.raw - f.bias - f.dark * dark_scale) / f.flat, out, options);
        benchmark::ClobberMemory();
    }
    bench::report_bytes(state, formula_bytes(full));
}

void BM_formula(benchmark::State& state)
{
    const bool full = state.range(1) != 0;
    const frame_set& f = frames(full);
    const std::map<std::string, image<float>, std::less<>> operands{
        {"raw", f.raw}, {"bias", f.bias}, {"dark", f.dark}, {"flat", f.flat}};
    const formula typed("(raw - bias - dark * 0.3) / flat");
    const eval_options options{threads_of(state)};
    for (auto _ : state) {
        image<float> out = typed.evaluate(operands, options);
        benchmark::DoNotOptimize(out.data().data());
    }
    bench::report_bytes(state, formula_bytes(full));
}

// One temporary per operation, values, uncertainties and masks each computed op by op.
void BM_naive(benchmark::State& state)
{
    const bool full = state.range(1) != 0;
    const frame_set& f = frames(full);
    using plane = xt::xtensor<float, 2>;
    using mplane = xt::xtensor<mask_t, 2>;
    for (auto _ : state) {
        plane v1 = f.raw.data() - f.bias.data();
        plane v2 = f.dark.data() * dark_scale;
        plane v3 = v1 - v2;
        plane v4 = v3 / f.flat.data();
        benchmark::DoNotOptimize(v4.data());
        if (full) {
            plane a = xt::square(f.raw.uncertainty()), b = xt::square(f.bias.uncertainty());
            plane c = a + b;
            plane s1 = xt::sqrt(c);
            plane s2 = f.dark.uncertainty() * dark_scale;
            plane d = xt::square(s1), e = xt::square(s2);
            plane g = d + e;
            plane s3 = xt::sqrt(g);
            plane q = v3 / f.flat.data();
            plane h = xt::square(s3 / v3), k = xt::square(f.flat.uncertainty() / f.flat.data());
            plane l = h + k;
            plane m = xt::sqrt(l);
            plane s4 = xt::abs(q) * m;
            mplane m1 = f.raw.mask() | f.bias.mask();
            mplane m2 = m1 | f.dark.mask();
            mplane m3 = m2 | f.flat.mask();
            benchmark::DoNotOptimize(s4.data());
            benchmark::DoNotOptimize(m3.data());
        }
        benchmark::ClobberMemory();
    }
    bench::report_bytes(state, formula_bytes(full));
}

void BM_xtensor(benchmark::State& state)
{
    const frame_set& f = frames(false);
    xt::xtensor<float, 2> out = xt::xtensor<float, 2>::from_shape({side, side});
    out.fill(0);
    for (auto _ : state) {
        xt::noalias(out) = (f.raw.data() - f.bias.data() - f.dark.data() * dark_scale) / f.flat.data();
        benchmark::ClobberMemory();
    }
    bench::report_bytes(state, formula_bytes(false));
}

void BM_same_streams(benchmark::State& state)
{
    const bool full = state.range(1) != 0;
    const frame_set& f = frames(full);
    const std::array<const image<float>*, 4> in{&f.raw, &f.bias, &f.dark, &f.flat};
    image<float>::plane values = image<float>::plane::from_shape({side, side}), sigmas = values;
    image<float>::mask_plane mask = image<float>::mask_plane::from_shape({side, side});
    bench::stream_set<4, 4, 4> carried{{}, values.data(), {}, sigmas.data(), {}, mask.data()};
    for (std::size_t i = 0; i < in.size(); ++i) {
        carried.values[i] = in[i]->data().data();
        if (full) {
            carried.sigmas[i] = in[i]->uncertainty().data();
            carried.masks[i] = in[i]->mask().data();
        }
    }
    const bench::stream_set<4, 0, 0> plain{carried.values, values.data(), {}, nullptr, {}, nullptr};
    const auto run = [&] {
        if (full)
            bench::same_streams(carried, side * side, threads_of(state));
        else
            bench::same_streams(plain, side * side, threads_of(state));
    };
    run();  // touch the outputs once, as the fused benchmark does
    for (auto _ : state) {
        run();
        benchmark::ClobberMemory();
    }
    bench::report_bytes(state, formula_bytes(full));
}

void BM_triad(benchmark::State& state)
{
    const std::size_t n = side * side;
    std::vector<float> a(n, 0.f), b(n, 1.f), c(n, 2.f);
    for (auto _ : state) {
        bench::triad(a.data(), b.data(), c.data(), 3.f, n, threads_of(state));
        benchmark::ClobberMemory();
    }
    bench::report_bytes(state, 12.0 * double(n));
}

void thread_and_stream_args(benchmark::internal::Benchmark* b)
{
    b->ArgNames({"threads", "full"});
    for (int threads : {1, 0})
        for (int full : {0, 1}) b->Args({threads, full});
    b->Unit(benchmark::kMillisecond)->UseRealTime();
}

}  // namespace

BENCHMARK(BM_fused)->Apply(thread_and_stream_args);
BENCHMARK(BM_formula)->Apply(thread_and_stream_args);
BENCHMARK(BM_same_streams)->Apply(thread_and_stream_args);
BENCHMARK(BM_naive)->ArgNames({"threads", "full"})->Args({1, 0})->Args({1, 1})->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_xtensor)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_triad)->ArgName("threads")->Arg(1)->Arg(0)->Unit(benchmark::kMillisecond)->UseRealTime();

BENCHMARK_MAIN();
