// FITS throughput: reading and writing a 4096 x 4096 float32 image with UNCERT and MASK (what
// CCDData writes after a reduction), and a raw 16-bit frame with BZERO = 32768 (what a camera
// writes), also gzipped as a whole (as archives serve it). Bytes counted are the file's pixel
// bytes; the files sit in the page cache, so the figures are decoding and copying, not the disk.
//
// Each read and write runs twice: through ccdx's direct path (/direct) and through cfitsio
// (/cfitsio, the direct path switched off), beside its floor: a plain read() or write() of the
// same file's bytes with one large buffer, in the same run.
//
// The files are written once per process (bench/scratch.hpp says where; with CCDX_BENCH_DIR set
// they stay, in its fits/ folder, for bench/fits_reference.py to time astropy on the same files).

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <string>
#include <vector>

#include <fcntl.h>
#include <unistd.h>

#include <benchmark/benchmark.h>
#include <libdeflate.h>

#include <ccdx/io/fits.hpp>

#include "bandwidth.hpp"
#include "scratch.hpp"

namespace {

namespace fs = std::filesystem;
constexpr std::size_t side = 4096;

struct bench_files {
    fs::path folder;
    fs::path reduced;  // float32 data + float32 UNCERT + uint8 MASK
    fs::path raw;      // BITPIX 16, BZERO 32768
    fs::path raw_gz;   // the same, gzipped at gzip's default level

    bench_files()
    {
        folder = ccdx::bench::scratch_folder("fits");
        reduced = folder / "reduced.fits";
        raw = folder / "raw.fits";
        std::mt19937 rng(42);
        std::normal_distribution<float> sky(1000.f, 30.f);
        ccdx::image<float> img(side, side, ccdx::unit("adu"));
        for (float& v : img.data()) v = std::round(sky(rng));
        img.header().set("EXPTIME", 90.0, "exposure time [s]");
        ccdx::write_options u16;
        u16.bitpix = ccdx::write_options::pixel_type::uint16;
        u16.overwrite = true;  // a kept folder is written anew
        ccdx::write_fits(img, raw, u16);
        raw_gz = folder / "raw.fits.gz";
        gzip(raw, raw_gz);
        auto sigma = img.data();
        for (float& v : sigma) v = std::sqrt(v);  // Poisson noise in adu, roughly
        img.set_uncertainty(std::move(sigma));
        auto& mask = img.ensure_mask();
        for (std::size_t i = 0; i < mask.size(); i += 997) mask.data()[i] = 1;
        ccdx::write_options f32;
        f32.overwrite = true;
        ccdx::write_fits(img, reduced, f32);
    }
    static void gzip(const fs::path& from, const fs::path& to)
    {
        std::ifstream in(from, std::ios::binary);
        const std::vector<char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        libdeflate_compressor* c = libdeflate_alloc_compressor(6);
        std::vector<char> packed(libdeflate_gzip_compress_bound(c, bytes.size()));
        packed.resize(libdeflate_gzip_compress(c, bytes.data(), bytes.size(), packed.data(), packed.size()));
        libdeflate_free_compressor(c);
        std::ofstream(to, std::ios::binary).write(packed.data(), static_cast<std::streamsize>(packed.size()));
    }
    ~bench_files()
    {
        if (!ccdx::bench::keep_files()) fs::remove_all(folder);
    }
};

const bench_files& files()
{
    static const bench_files f;
    return f;
}

// Arg 0: cfitsio's path; otherwise ccdx's direct path.
struct path_choice {
    explicit path_choice(const benchmark::State& state) { ccdx::detail::direct_io_enabled() = state.range(0) != 0; }
    ~path_choice() { ccdx::detail::direct_io_enabled() = true; }
};

void label(benchmark::State& state) { state.SetLabel(state.range(0) == 1 ? "direct" : "cfitsio"); }

std::vector<char>& floor_buffer(std::size_t n)
{
    static std::vector<char> buffer;
    if (buffer.size() < n) buffer.assign(n, 1);
    return buffer;
}

// The floor of a read: the file's bytes with one read() into a buffer already in memory.
void read_floor(benchmark::State& state, const fs::path& p)
{
    const auto n = static_cast<std::size_t>(fs::file_size(p));
    char* buffer = floor_buffer(n).data();
    for (auto _ : state) {
        const int fd = ::open(p.c_str(), O_RDONLY);
        std::size_t got = 0;
        for (::ssize_t k; got < n && (k = ::read(fd, buffer + got, n - got)) > 0;) got += static_cast<std::size_t>(k);
        ::close(fd);
        if (got != n) state.SkipWithError("short read");
        benchmark::DoNotOptimize(buffer);
    }
}

// The floor of a write: as many bytes as the file with one write() to a new file beside it.
void write_floor(benchmark::State& state, const fs::path& p)
{
    const auto n = static_cast<std::size_t>(fs::file_size(p));
    const char* buffer = floor_buffer(n).data();
    const fs::path out = files().folder / "floor.fits";
    for (auto _ : state) {
        fs::remove(out);
        const int fd = ::open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
        std::size_t put = 0;
        for (::ssize_t k; put < n && (k = ::write(fd, buffer + put, n - put)) > 0;) put += static_cast<std::size_t>(k);
        if (::close(fd) != 0 || put != n) state.SkipWithError("short write");
    }
}

constexpr double reduced_bytes = double(side * side) * (4 + 4 + 1);
constexpr double raw_bytes = double(side * side) * 2;

// The whole file at p read into an image<float>, through the path state's argument chooses.
void read_image(benchmark::State& state, const fs::path& p, double bytes)
{
    const path_choice chosen(state);
    label(state);
    for (auto _ : state) {
        auto img = ccdx::read_fits<float>(p);
        benchmark::DoNotOptimize(img.data().data());
    }
    ccdx::bench::report_bytes(state, bytes);
}

void read_reduced(benchmark::State& state) { read_image(state, files().reduced, reduced_bytes); }

// A new file each time, as a night's outputs are (the floor's write() too). Arg 2: the direct
// path over an existing file, where ext4 starts writing the new file's data back before the
// rename that replaces the old one (its auto_da_alloc safeguard).
void write_image(benchmark::State& state, const ccdx::image<float>& img, ccdx::write_options o, const char* name)
{
    const path_choice chosen(state);
    const fs::path out = files().folder / name;
    o.overwrite = state.range(0) == 2;
    state.SetLabel(state.range(0) == 0 ? "cfitsio" : o.overwrite ? "direct, replacing" : "direct");
    for (auto _ : state) {
        if (!o.overwrite) fs::remove(out);
        ccdx::write_fits(img, out, o);
    }
}

void write_reduced(benchmark::State& state)
{
    write_image(state, ccdx::read_fits<float>(files().reduced), {}, "written.fits");
    ccdx::bench::report_bytes(state, reduced_bytes);
}

void read_raw_uint16(benchmark::State& state) { read_image(state, files().raw, raw_bytes); }

// cfitsio inflates with zlib, then copies the pixels out; ccdx inflates with libdeflate and
// decodes from the inflated bytes.
void read_raw_gz(benchmark::State& state)
{
    read_image(state, files().raw_gz, raw_bytes);
    state.counters["ratio"] = static_cast<double>(fs::file_size(files().raw)) / static_cast<double>(fs::file_size(files().raw_gz));
}

void write_raw_uint16(benchmark::State& state)
{
    ccdx::write_options o;
    o.bitpix = ccdx::write_options::pixel_type::uint16;
    write_image(state, ccdx::read_fits<float>(files().raw), o, "written_raw.fits");
    ccdx::bench::report_bytes(state, raw_bytes);
}

// The whole reduced file read in bands of state.range(1) rows, as a streaming combine does.
void read_reduced_in_bands(benchmark::State& state)
{
    const fs::path p = files().reduced;
    const auto band = static_cast<std::size_t>(state.range(1));
    const path_choice chosen(state);
    label(state);
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

void floor_read_reduced(benchmark::State& state)
{
    read_floor(state, files().reduced);
    ccdx::bench::report_bytes(state, reduced_bytes);
}
void floor_write_reduced(benchmark::State& state)
{
    write_floor(state, files().reduced);
    ccdx::bench::report_bytes(state, reduced_bytes);
}
void floor_read_raw(benchmark::State& state)
{
    read_floor(state, files().raw);
    ccdx::bench::report_bytes(state, raw_bytes);
}
void floor_write_raw(benchmark::State& state)
{
    write_floor(state, files().raw);
    ccdx::bench::report_bytes(state, raw_bytes);
}

}  // namespace

BENCHMARK(floor_read_reduced)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(read_reduced)->Arg(1)->Arg(0)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(floor_write_reduced)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(write_reduced)->Arg(1)->Arg(0)->Arg(2)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(floor_read_raw)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(read_raw_uint16)->Arg(1)->Arg(0)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(read_raw_gz)->Arg(1)->Arg(0)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(floor_write_raw)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(write_raw_uint16)->Arg(1)->Arg(0)->Arg(2)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(read_reduced_in_bands)->Args({1, 256})->Args({0, 256})->Args({1, 1024})->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(read_header_only)->Unit(benchmark::kMicrosecond)->UseRealTime();

BENCHMARK_MAIN();
