// FITS throughput: reading and writing a 4096 x 4096 float32 image with UNCERT and MASK (what
// CCDData writes after a reduction), and a raw 16-bit frame with BZERO = 32768 (what a camera
// writes). Bytes counted are the file's pixel bytes; the files sit in the page cache, so the
// figures are cfitsio's decoding and ccdx's copying, not the disk.
//
// The files are written once per process into a scratch folder beside the system's temporary
// files and removed at exit. CCDX_BENCH_FITS_KEEP=1 keeps them and prints where, for
// bench/fits_reference.py to time astropy on the same files.

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <string>

#include <benchmark/benchmark.h>

#include <ccdx/io/fits.hpp>

#include "bandwidth.hpp"

namespace {

namespace fs = std::filesystem;
constexpr std::size_t side = 4096;

struct bench_files {
    fs::path folder;
    fs::path reduced;  // float32 data + float32 UNCERT + uint8 MASK
    fs::path raw;      // BITPIX 16, BZERO 32768

    bench_files()
    {
        folder = fs::temp_directory_path() / ("ccdx-bench-fits-" + std::to_string(std::random_device{}()));
        fs::create_directories(folder);
        reduced = folder / "reduced.fits";
        raw = folder / "raw.fits";
        std::mt19937 rng(42);
        std::normal_distribution<float> sky(1000.f, 30.f);
        ccdx::image<float> img(side, side, ccdx::unit("adu"));
        for (float& v : img.data()) v = std::round(sky(rng));
        img.header().set("EXPTIME", 90.0, "exposure time [s]");
        ccdx::write_options u16;
        u16.bitpix = ccdx::write_options::pixel_type::uint16;
        ccdx::write_fits(img, raw, u16);
        auto sigma = img.data();
        for (float& v : sigma) v = std::sqrt(v);  // Poisson noise in adu, roughly
        img.set_uncertainty(std::move(sigma));
        auto& mask = img.ensure_mask();
        for (std::size_t i = 0; i < mask.size(); i += 997) mask.data()[i] = 1;
        ccdx::write_fits(img, reduced);
    }
    ~bench_files()
    {
        const char* keep = std::getenv("CCDX_BENCH_FITS_KEEP");
        if (keep && *keep == '1')
            std::fprintf(stderr, "bench files kept in %s\n", folder.string().c_str());
        else
            fs::remove_all(folder);
    }
};

const bench_files& files()
{
    static const bench_files f;
    return f;
}

constexpr double reduced_bytes = double(side * side) * (4 + 4 + 1);
constexpr double raw_bytes = double(side * side) * 2;

void read_reduced(benchmark::State& state)
{
    const fs::path p = files().reduced;
    for (auto _ : state) {
        auto img = ccdx::read_fits<float>(p);
        benchmark::DoNotOptimize(img.data().data());
    }
    ccdx::bench::report_bytes(state, reduced_bytes);
}

void write_reduced(benchmark::State& state)
{
    auto img = ccdx::read_fits<float>(files().reduced);
    const fs::path out = files().folder / "written.fits";
    ccdx::write_options o;
    o.overwrite = true;
    for (auto _ : state) ccdx::write_fits(img, out, o);
    ccdx::bench::report_bytes(state, reduced_bytes);
}

void read_raw_uint16(benchmark::State& state)
{
    const fs::path p = files().raw;
    for (auto _ : state) {
        auto img = ccdx::read_fits<float>(p);
        benchmark::DoNotOptimize(img.data().data());
    }
    ccdx::bench::report_bytes(state, raw_bytes);
}

void write_raw_uint16(benchmark::State& state)
{
    auto img = ccdx::read_fits<float>(files().raw);
    const fs::path out = files().folder / "written_raw.fits";
    ccdx::write_options o;
    o.overwrite = true;
    o.bitpix = ccdx::write_options::pixel_type::uint16;
    for (auto _ : state) ccdx::write_fits(img, out, o);
    ccdx::bench::report_bytes(state, raw_bytes);
}

// The whole reduced file read in bands of state.range(0) rows, as a streaming combine does.
void read_reduced_in_bands(benchmark::State& state)
{
    const fs::path p = files().reduced;
    const auto band = static_cast<std::size_t>(state.range(0));
    for (auto _ : state) {
        for (std::size_t r = 0; r < side; r += band) {
            auto img = ccdx::read_fits_rows<float>(p, r, std::min(side, r + band));
            benchmark::DoNotOptimize(img.data().data());
        }
    }
    ccdx::bench::report_bytes(state, reduced_bytes);
}

void read_header_only(benchmark::State& state)
{
    const fs::path p = files().reduced;
    for (auto _ : state) {
        auto h = ccdx::read_fits_header(p);
        benchmark::DoNotOptimize(h.size());
    }
    ccdx::bench::report_bytes(state, 2880.0);
}

}  // namespace

BENCHMARK(read_reduced)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(write_reduced)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(read_raw_uint16)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(write_raw_uint16)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(read_reduced_in_bands)->Arg(256)->Arg(1024)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(read_header_only)->Unit(benchmark::kMicrosecond)->UseRealTime();

BENCHMARK_MAIN();
