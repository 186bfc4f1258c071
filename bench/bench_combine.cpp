// Combining stacks of 4096 x 4096 frames: the median of 20 and the 3-sigma-clipped average of 10
// raw 16-bit files (BZERO = 32768, what a camera writes), streamed from disk under a 1 GB
// memory_limit, beside the time to simply read the same files and the per-pixel kernel alone on
// frames already in memory. Bytes counted are the input pixels as stored (2 bytes each on disk,
// 4 in memory). peak_MB is the process's resident high-water mark during the benchmark (reset
// before it), so it includes everything the combine allocated.
//
// The frames are written once into a folder beside the system's temporary files and kept
// (CCDX_BENCH_COMBINE_DIR overrides where), so that bench/combine_reference.py can time ccdproc
// on the very same files:
//   python3 bench/combine_reference.py <folder>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>

#include <ccdx/io/fits.hpp>
#include <ccdx/stack/combine.hpp>

#include "bandwidth.hpp"

namespace {

namespace fs = std::filesystem;
constexpr std::size_t side = 4096;
constexpr std::size_t frames_on_disk = 20;

fs::path folder()
{
    if (const char* env = std::getenv("CCDX_BENCH_COMBINE_DIR"); env && *env) return env;
    return fs::temp_directory_path() / "ccdx-bench-combine";
}

// Bias-like frames: a level, read noise, a few hot pixels and cosmic rays, stored as uint16.
const std::vector<fs::path>& files()
{
    static const std::vector<fs::path> paths = [] {
        std::vector<fs::path> out;
        fs::create_directories(folder());
        std::mt19937 rng(2026);
        std::normal_distribution<float> noise(0.f, 12.f);
        std::uniform_int_distribution<std::size_t> where(0, side * side - 1);
        // One noise field, shifted per frame: realistic values without 335 M Gaussian draws.
        std::vector<float> field(side * side + frames_on_disk * 7919);
        for (float& v : field) v = noise(rng);
        ccdx::write_options u16;
        u16.bitpix = ccdx::write_options::pixel_type::uint16;
        for (std::size_t i = 0; i < frames_on_disk; ++i) {
            char name[32];
            std::snprintf(name, sizeof name, "raw_%02zu.fits", i);
            out.push_back(folder() / name);
            if (fs::exists(out.back())) continue;
            ccdx::image<float> img(side, side, ccdx::unit("adu"));
            float* d = img.data().data();
            const float* f = field.data() + i * 7919;
            const float level = 1000.f + static_cast<float>(i);
            for (std::size_t k = 0; k < side * side; ++k) d[k] = std::round(level + f[k]);
            for (int c = 0; c < 2000; ++c) d[where(rng)] = 30000.f;  // cosmic rays
            img.header().set("IMAGETYP", std::string("BIAS"), "");
            ccdx::write_fits(img, out.back(), u16);
        }
        return out;
    }();
    return paths;
}

std::vector<fs::path> first(std::size_t n)
{
    return std::vector<fs::path>(files().begin(), files().begin() + static_cast<std::ptrdiff_t>(n));
}

// The resident high-water mark, reset so that each benchmark reports its own.
void reset_peak_memory()
{
    std::ofstream("/proc/self/clear_refs") << "5";
}
double peak_memory_mb()
{
    std::ifstream status("/proc/self/status");
    std::string key;
    while (status >> key) {
        if (key == "VmHWM:") {
            double kb = 0;
            status >> kb;
            return kb / 1024;
        }
        std::getline(status, key);
    }
    return 0;
}

void report(benchmark::State& state, std::size_t n, double bytes_per_pixel)
{
    ccdx::bench::report_bytes(state, double(n) * side * side * bytes_per_pixel);
    state.counters["peak_MB"] = peak_memory_mb();
    state.counters["frames"] = static_cast<double>(n);
}

// --- reading alone: the floor a streamed combine stands on --------------------------------------

void BM_read_frames(benchmark::State& state)
{
    const auto paths = first(static_cast<std::size_t>(state.range(0)));
    reset_peak_memory();
    for (auto _ : state)
        for (const auto& p : paths) benchmark::DoNotOptimize(ccdx::read_fits<float>(p).data().data());
    report(state, paths.size(), 2);
}

// --- streamed from files under a memory limit ----------------------------------------------------

void BM_combine_files_median(benchmark::State& state)
{
    const auto paths = first(static_cast<std::size_t>(state.range(0)));
    ccdx::combine_options o;
    o.method = ccdx::combine_method::median;
    o.memory_limit = std::size_t(1) << 30;
    reset_peak_memory();
    for (auto _ : state) benchmark::DoNotOptimize(ccdx::combine(paths, o).data().data());
    report(state, paths.size(), 2);
}

void BM_combine_files_sigma_clipped_average(benchmark::State& state)
{
    const auto paths = first(static_cast<std::size_t>(state.range(0)));
    ccdx::combine_options o;
    o.method = ccdx::combine_method::average;
    o.sigma_clip = ccdx::sigma_clip{};  // 3 sigma about the mean, one pass, as ccdproc
    o.memory_limit = std::size_t(1) << 30;
    reset_peak_memory();
    for (auto _ : state) benchmark::DoNotOptimize(ccdx::combine(paths, o).data().data());
    report(state, paths.size(), 2);
}

// --- the kernel alone, frames already in memory --------------------------------------------------

const std::vector<ccdx::image<float>>& loaded(std::size_t n)
{
    static std::vector<ccdx::image<float>> frames;
    while (frames.size() < n) frames.push_back(ccdx::read_fits<float>(files()[frames.size()]));
    return frames;
}

void BM_combine_memory(benchmark::State& state, ccdx::combine_options o)
{
    const auto n = static_cast<std::size_t>(state.range(0));
    const std::vector<ccdx::image<float>> stack(loaded(n).begin(), loaded(n).begin() + static_cast<std::ptrdiff_t>(n));
    reset_peak_memory();
    for (auto _ : state) benchmark::DoNotOptimize(ccdx::combine(stack, o).data().data());
    report(state, n, 4);
}

ccdx::combine_options median()
{
    ccdx::combine_options o;
    o.method = ccdx::combine_method::median;
    return o;
}
ccdx::combine_options average()
{
    return {};
}
ccdx::combine_options sigma_clipped_average()
{
    ccdx::combine_options o;
    o.sigma_clip = ccdx::sigma_clip{};
    return o;
}
ccdx::combine_options mad_clipped_median()
{
    ccdx::combine_options o;
    o.method = ccdx::combine_method::median;
    o.sigma_clip = ccdx::sigma_clip{};
    o.sigma_clip->center = ccdx::clip_center::median;
    o.sigma_clip->deviation = ccdx::clip_deviation::mad_std;
    return o;
}
ccdx::combine_options extrema_clipped_average()
{
    ccdx::combine_options o;
    o.nlow = 1;
    o.nhigh = 1;
    return o;
}

}  // namespace

BENCHMARK(BM_read_frames)->Arg(10)->Arg(20)->Unit(benchmark::kMillisecond)->Iterations(2)->UseRealTime();
BENCHMARK(BM_combine_files_median)->Arg(20)->Unit(benchmark::kMillisecond)->Iterations(2)->UseRealTime();
BENCHMARK(BM_combine_files_sigma_clipped_average)->Arg(10)->Unit(benchmark::kMillisecond)->Iterations(2)->UseRealTime();
BENCHMARK_CAPTURE(BM_combine_memory, median, median())->Arg(5)->Arg(10)->Arg(20)->Unit(benchmark::kMillisecond)->Iterations(2)->UseRealTime();
BENCHMARK_CAPTURE(BM_combine_memory, average, average())->Arg(10)->Arg(20)->Unit(benchmark::kMillisecond)->Iterations(2)->UseRealTime();
BENCHMARK_CAPTURE(BM_combine_memory, sigma_clipped_average, sigma_clipped_average())->Arg(10)->Unit(benchmark::kMillisecond)->Iterations(2)->UseRealTime();
BENCHMARK_CAPTURE(BM_combine_memory, mad_clipped_median, mad_clipped_median())->Arg(10)->Unit(benchmark::kMillisecond)->Iterations(2)->UseRealTime();
BENCHMARK_CAPTURE(BM_combine_memory, extrema_clipped_average, extrema_clipped_average())->Arg(10)->Unit(benchmark::kMillisecond)->Iterations(2)->UseRealTime();

BENCHMARK_MAIN();
