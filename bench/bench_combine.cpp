// Combining stacks of 4096 x 4096 frames: the median of 20 and the 3-sigma-clipped average of 10
// raw 16-bit files (BZERO = 32768, what a camera writes), streamed from disk under a 1 GB
// memory_limit, beside the time to read the same files (read() of their bytes, and read_fits)
// and the per-pixel kernel alone on frames already in memory. Bytes counted are the input pixels as stored (2 bytes each on disk,
// 4 in memory). peak_MB is the process's resident high-water mark during the benchmark (reset
// before it), so it includes everything the combine allocated.
//
// The frames are written once per process (bench/scratch.hpp says where; with CCDX_BENCH_DIR
// set they stay, in its combine/ folder, for bench/combine_reference.py to time ccdproc on the
// very same files).

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include <fcntl.h>
#include <unistd.h>

#include <benchmark/benchmark.h>

#include <ccdx/io/fits.hpp>
#include <ccdx/stack/combine.hpp>

#include "bandwidth.hpp"
#include "peak_memory.hpp"
#include "scratch.hpp"

namespace {

namespace fs = std::filesystem;
constexpr std::size_t side = 4096;
constexpr std::size_t frames_on_disk = 20;

// Bias-like frames: a level, read noise, a few hot pixels and cosmic rays, stored as uint16.
struct stack_files {
    fs::path folder = ccdx::bench::scratch_folder("combine");
    std::vector<fs::path> paths;

    stack_files()
    {
        std::mt19937 rng(2026);
        std::normal_distribution<float> noise(0.f, 12.f);
        std::uniform_int_distribution<std::size_t> where(0, side * side - 1);
        // One noise field, shifted per frame: realistic values without 335 M Gaussian draws.
        std::vector<float> field(side * side + frames_on_disk * 7919);
        for (float& v : field) v = noise(rng);
        ccdx::write_options u16;
        u16.bitpix = ccdx::write_options::pixel_type::uint16;
        u16.overwrite = true;
        for (std::size_t i = 0; i < frames_on_disk; ++i) {
            char name[32];
            std::snprintf(name, sizeof name, "raw_%02zu.fits", i);
            paths.push_back(folder / name);
            ccdx::image<float> img(side, side, ccdx::unit("adu"));
            float* d = img.data().data();
            const float* f = field.data() + i * 7919;
            const float level = 1000.f + static_cast<float>(i);
            for (std::size_t k = 0; k < side * side; ++k) d[k] = std::round(level + f[k]);
            for (int c = 0; c < 2000; ++c) d[where(rng)] = 30000.f;  // cosmic rays
            img.header().set("IMAGETYP", std::string("BIAS"), "");
            ccdx::write_fits(img, paths.back(), u16);
        }
    }
    ~stack_files()
    {
        if (!ccdx::bench::keep_files()) fs::remove_all(folder);
    }
};

const std::vector<fs::path>& files()
{
    static const stack_files f;
    return f.paths;
}

std::vector<fs::path> first(std::size_t n)
{
    return std::vector<fs::path>(files().begin(), files().begin() + static_cast<std::ptrdiff_t>(n));
}

void report(benchmark::State& state, std::size_t n, double bytes_per_pixel)
{
    ccdx::bench::report_bytes(state, double(n) * side * side * bytes_per_pixel);
    ccdx::bench::report_peak_memory(state);
    state.counters["frames"] = static_cast<double>(n);
}

// --- reading alone: the floor a streamed combine stands on --------------------------------------

void BM_read_frames(benchmark::State& state)
{
    const auto paths = first(static_cast<std::size_t>(state.range(0)));
    ccdx::bench::reset_peak_memory();
    for (auto _ : state)
        for (const auto& p : paths) benchmark::DoNotOptimize(ccdx::read_fits<float>(p).data().data());
    report(state, paths.size(), 2);
}

// The floor beneath that: the files' bytes with one read() each into a buffer already in memory.
void BM_floor_read_frames(benchmark::State& state)
{
    const auto paths = first(static_cast<std::size_t>(state.range(0)));
    std::vector<char> buffer(fs::file_size(paths[0]) + (1 << 20), 1);
    for (auto _ : state)
        for (const auto& p : paths) {
            const int fd = ::open(p.c_str(), O_RDONLY);
            while (::read(fd, buffer.data(), buffer.size()) > 0) {
            }
            ::close(fd);
        }
    report(state, paths.size(), 2);
}

// --- streamed from files under a memory limit ----------------------------------------------------

void BM_combine_files_median(benchmark::State& state)
{
    const auto paths = first(static_cast<std::size_t>(state.range(0)));
    ccdx::combine_options o;
    o.method = ccdx::combine_method::median;
    o.memory_limit = std::size_t(1) << 30;
    ccdx::bench::reset_peak_memory();
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
    ccdx::bench::reset_peak_memory();
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
    ccdx::bench::reset_peak_memory();
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

BENCHMARK(BM_floor_read_frames)->Arg(10)->Arg(20)->Unit(benchmark::kMillisecond)->Iterations(2)->UseRealTime();
BENCHMARK(BM_read_frames)->Arg(10)->Arg(20)->Unit(benchmark::kMillisecond)->Iterations(2)->UseRealTime();
BENCHMARK(BM_combine_files_median)->Arg(20)->Unit(benchmark::kMillisecond)->Iterations(2)->UseRealTime();
BENCHMARK(BM_combine_files_sigma_clipped_average)->Arg(10)->Unit(benchmark::kMillisecond)->Iterations(2)->UseRealTime();
BENCHMARK_CAPTURE(BM_combine_memory, median, median())->Arg(5)->Arg(10)->Arg(20)->Unit(benchmark::kMillisecond)->Iterations(2)->UseRealTime();
BENCHMARK_CAPTURE(BM_combine_memory, average, average())->Arg(10)->Arg(20)->Unit(benchmark::kMillisecond)->Iterations(2)->UseRealTime();
BENCHMARK_CAPTURE(BM_combine_memory, sigma_clipped_average, sigma_clipped_average())->Arg(10)->Unit(benchmark::kMillisecond)->Iterations(2)->UseRealTime();
BENCHMARK_CAPTURE(BM_combine_memory, mad_clipped_median, mad_clipped_median())->Arg(10)->Unit(benchmark::kMillisecond)->Iterations(2)->UseRealTime();
BENCHMARK_CAPTURE(BM_combine_memory, extrema_clipped_average, extrema_clipped_average())->Arg(10)->Unit(benchmark::kMillisecond)->Iterations(2)->UseRealTime();

BENCHMARK_MAIN();
