// A night file to file: raw 4096 x 4096 16-bit frames (10, or CCDX_BENCH_NIGHT_FRAMES; BZERO =
// 32768, EXPTIME) reduced with a master bias, a dark scaled by exposure time and a flat (each
// with UNCERT and MASK), gain and read noise, into float32 frames with UNCERT and MASK, as
// `ccdx reduce` does.
//   floor       read() of every raw file's bytes, write() of as many bytes as the outputs, to
//               new files: what the storage allows
//   one_by_one  read_fits, ccd_process and write_fits of each frame in turn
//   pipelined   process_files: reading, the pass and writing of three frames at once
// Bytes counted: the raw files' and the outputs' together. Outputs go to new files each time
// (a replaced file costs its rename a write-back on ext4; see bench_fits). The files sit in the
// page cache (bench/scratch.hpp says where; with CCDX_BENCH_DIR set they stay, in its night/
// folder with the masters, for bench/night_reference.py to time ccdproc on the same files).

#include <benchmark/benchmark.h>

#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include <ccdx/io/fits.hpp>
#include <ccdx/reduce/process_files.hpp>

#include "bandwidth.hpp"
#include "peak_memory.hpp"
#include "scratch.hpp"

namespace {

namespace fs = std::filesystem;
constexpr std::size_t side = 4096;

// Frames in the night: CCDX_BENCH_NIGHT_FRAMES, or 10.
std::size_t frame_count()
{
    const char* n = std::getenv("CCDX_BENCH_NIGHT_FRAMES");
    return n && std::atoi(n) > 0 ? static_cast<std::size_t>(std::atoi(n)) : 10;
}

// A master with the uncertainty a stack of `stacked` frames leaves and a few bad pixels masked.
ccdx::image<float> master(ccdx::image<float> m, float noise, std::size_t stacked)
{
    m.set_uncertainty(ccdx::image<float>::plane(xt::full_like(m.data(), noise / std::sqrt(float(stacked)))));
    auto& mask = m.ensure_mask();
    for (std::size_t i = 0; i < mask.size(); i += 40009) mask.data()[i] = 1;
    return m;
}

ccdx::process_files_options into(const fs::path& folder)
{
    ccdx::process_files_options o;
    o.output_folder = folder;
    return o;
}

// What a camera sees over a night: a bias level with a gradient across the rows, dark current
// with hot pixels, a vignetted flat with pixel-to-pixel response, sky and stars, Poisson and
// read noise, stored as 16-bit integers with BZERO = 32768.
struct night_files {
    fs::path folder, raw_folder;
    std::size_t frames = frame_count();
    std::vector<fs::path> raws;
    ccdx::image<float> bias, dark, flat;
    ccdx::process_options<float> options;
    std::uintmax_t raw_bytes = 0, output_bytes = 0;

    night_files() : folder(ccdx::bench::scratch_folder("night")), raw_folder(folder / "raw")
    {
        fs::remove_all(raw_folder);
        fs::create_directories(raw_folder);
        std::mt19937 rng(7);
        std::normal_distribution<float> gauss(0, 1);
        std::uniform_real_distribution<float> uniform(0, 1);
        const float read_noise = 8.f / 1.5f;  // adu
        bias = ccdx::image<float>(side, side, ccdx::unit("adu"));
        dark = ccdx::image<float>(side, side, ccdx::unit("adu"));
        flat = ccdx::image<float>(side, side, ccdx::unit("adu"));
        ccdx::image<float> scene(side, side, ccdx::unit("adu"));  // sky and stars, adu per second
        for (std::size_t r = 0; r < side; ++r)
            for (std::size_t c = 0; c < side; ++c) {
                const float x = (float(c) - side / 2.f) / (side / 2.f), y = (float(r) - side / 2.f) / (side / 2.f);
                bias.data()(r, c) = 1000.f + 4.f * float(r) / side + gauss(rng) * read_noise / 4;
                dark.data()(r, c) = (uniform(rng) < 1e-3f ? 20.f : 0.02f) * 300.f;  // a 300 s master dark
                flat.data()(r, c) = (1.f - 0.25f * (x * x + y * y)) * (1.f + 0.01f * gauss(rng));
                scene.data()(r, c) = 2.f;
            }
        std::uniform_real_distribution<float> place(8, side - 8);
        std::exponential_distribution<float> brightness(1.f / 300.f);
        for (int k = 0; k < 3000; ++k) {  // stars: Gaussian images of 1.5 pixels' sigma
            const float r0 = place(rng), c0 = place(rng), peak = brightness(rng);
            for (int dr = -6; dr <= 6; ++dr)
                for (int dc = -6; dc <= 6; ++dc) {
                    const auto r = static_cast<std::size_t>(r0 + float(dr)), c = static_cast<std::size_t>(c0 + float(dc));
                    const float d2 = (float(r) - r0) * (float(r) - r0) + (float(c) - c0) * (float(c) - c0);
                    scene.data()(r, c) += peak * std::exp(-d2 / (2 * 1.5f * 1.5f));
                }
        }
        ccdx::write_options u16;
        u16.bitpix = ccdx::write_options::pixel_type::uint16;
        for (std::size_t k = 0; k < frames; ++k) {
            ccdx::image<float> raw(side, side, ccdx::unit("adu"));
            const float exposure = 60.f + 30.f * float(k % 5);
            for (std::size_t i = 0; i < raw.size(); ++i) {
                const float electrons = 1.5f * (dark.data().data()[i] * exposure / 300.f +
                                                flat.data().data()[i] * scene.data().data()[i] * exposure);
                const float adu = bias.data().data()[i] + (electrons + std::sqrt(electrons) * gauss(rng)) / 1.5f +
                                  read_noise * gauss(rng);
                raw.data().data()[i] = std::round(std::min(std::max(adu, 0.f), 65535.f));
            }
            raw.header().set("EXPTIME", double(exposure));
            raw.header().set("IMAGETYP", std::string("LIGHT"));
            raws.push_back(raw_folder / ("light" + std::to_string(k) + ".fits"));
            ccdx::write_fits(raw, raws.back(), u16);
            raw_bytes += fs::file_size(raws.back());
        }
        bias = master(std::move(bias), read_noise, 20);
        dark = master(std::move(dark), read_noise, 10);
        flat = master(std::move(flat), 0.01f, 10);
        dark.header().set("EXPTIME", 300.0);
        options.master_bias = &bias;
        options.dark_frame = &dark;
        options.master_flat = &flat;
        options.dark.exposure_keyword = "EXPTIME";
        options.dark.exposure_unit = ccdx::unit("s");
        options.dark.scale = true;
        options.gain = ccdx::quantity(1.5, ccdx::unit("electron / adu"));
        options.readnoise = ccdx::quantity(8, ccdx::unit("electron"));
        options.error = true;
        options.gain_corrected = false;
        const fs::path sizes = folder / "sizes";
        fs::remove_all(sizes);
        fs::create_directories(sizes);
        for (const fs::path& w : ccdx::process_files(raws, options, into(sizes))) output_bytes += fs::file_size(w);
        fs::remove_all(sizes);
        if (ccdx::bench::keep_files()) {
            ccdx::write_options replace;
            replace.overwrite = true;
            ccdx::write_fits(bias, folder / "bias.fits", replace);
            ccdx::write_fits(dark, folder / "dark.fits", replace);
            ccdx::write_fits(flat, folder / "flat.fits", replace);
        }
    }
    ~night_files()
    {
        if (!ccdx::bench::keep_files()) fs::remove_all(folder);
    }
};

const night_files& night()
{
    static const night_files n;
    return n;
}

// A fresh, empty output folder for each iteration, made while the clock is stopped.
fs::path fresh_outputs(benchmark::State& state)
{
    state.PauseTiming();
    const fs::path out = night().folder / "out";
    fs::remove_all(out);
    fs::create_directories(out);
    state.ResumeTiming();
    return out;
}

void report(benchmark::State& state)
{
    ccdx::bench::report_bytes(state, double(night().raw_bytes + night().output_bytes));
    ccdx::bench::report_peak_memory(state);
    state.counters["frames"] = double(night().frames);
}

void floor(benchmark::State& state)
{
    const night_files& n = night();
    ccdx::bench::reset_peak_memory();
    std::vector<char> buffer(std::max(n.raw_bytes, n.output_bytes) / n.frames + (1 << 20), 1);
    for (auto _ : state) {
        const fs::path out = fresh_outputs(state);
        for (std::size_t k = 0; k < n.frames; ++k) {
            const int in = ::open(n.raws[k].c_str(), O_RDONLY);
            while (::read(in, buffer.data(), buffer.size()) > 0) {
            }
            ::close(in);
            const int fd = ::open((out / n.raws[k].filename()).c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
            std::size_t put = 0;
            const std::size_t size = n.output_bytes / n.frames;
            for (::ssize_t w; put < size && (w = ::write(fd, buffer.data(), std::min(buffer.size(), size - put))) > 0;)
                put += static_cast<std::size_t>(w);
            if (::close(fd) != 0 || put != size) state.SkipWithError("short write");
        }
    }
    report(state);
}

void one_by_one(benchmark::State& state)
{
    const night_files& n = night();
    ccdx::bench::reset_peak_memory();
    for (auto _ : state) {
        const fs::path out = fresh_outputs(state);
        for (const fs::path& raw : n.raws) {
            const ccdx::image<float> reduced = ccdx::ccd_process(ccdx::read_fits<float>(raw), n.options);
            ccdx::write_fits(reduced, out / raw.filename());
        }
    }
    report(state);
}

void pipelined(benchmark::State& state)
{
    const night_files& n = night();
    ccdx::bench::reset_peak_memory();
    for (auto _ : state) ccdx::process_files(n.raws, n.options, into(fresh_outputs(state)));
    report(state);
}

}  // namespace

BENCHMARK(floor)->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(3);
BENCHMARK(one_by_one)->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(3);
BENCHMARK(pipelined)->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(3);

BENCHMARK_MAIN();
