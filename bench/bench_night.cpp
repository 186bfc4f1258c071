// A night file to file: 10 raw 4096 x 4096 16-bit frames (BZERO = 32768, EXPTIME) reduced with
// a master bias, a dark scaled by exposure time and a flat (each with UNCERT and MASK), gain and
// read noise, into float32 frames with UNCERT and MASK, as `ccdx reduce` does.
//   floor       read() of every raw file's bytes, write() of as many bytes as the outputs, to
//               new files: what the storage allows
//   one_by_one  read_fits, ccd_process and write_fits of each frame in turn
//   pipelined   process_files: reading, the pass and writing of three frames at once
// Bytes counted: the raw files' and the outputs' together. Outputs go to new files each time
// (a replaced file costs its rename a write-back on ext4; see bench_fits). The files sit in the
// page cache, beside the system's temporary files; compare ccdproc with bench/night_reference.py
// (CCDX_BENCH_NIGHT_KEEP=1 keeps the files and prints where).

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

namespace {

namespace fs = std::filesystem;
constexpr std::size_t side = 4096, frames = 10;

ccdx::image<float> master(std::mt19937& rng, float level, float spread)
{
    std::normal_distribution<float> pixel(level, spread);
    ccdx::image<float> m(side, side, ccdx::unit("adu"));
    for (float& v : m.data()) v = pixel(rng);
    m.set_uncertainty(ccdx::image<float>::plane(xt::full_like(m.data(), spread / 4)));
    auto& mask = m.ensure_mask();
    for (std::size_t i = 0; i < mask.size(); i += 4099) mask.data()[i] = 1;
    m.header().set("EXPTIME", 300.0);
    return m;
}

ccdx::process_files_options into(const fs::path& folder)
{
    ccdx::process_files_options o;
    o.output_folder = folder;
    return o;
}

struct night_files {
    fs::path folder, raw_folder;
    std::vector<fs::path> raws;
    ccdx::image<float> bias, dark, flat;
    ccdx::process_options<float> options;
    std::uintmax_t raw_bytes = 0, output_bytes = 0;

    night_files()
    {
        folder = fs::temp_directory_path() / ("ccdx-bench-night-" + std::to_string(std::random_device{}()));
        raw_folder = folder / "raw";
        fs::create_directories(raw_folder);
        std::mt19937 rng(7);
        bias = master(rng, 1000, 5);
        dark = master(rng, 30, 3);
        flat = master(rng, 1, 0.02f);
        ccdx::write_options u16;
        u16.bitpix = ccdx::write_options::pixel_type::uint16;
        std::normal_distribution<float> noise(0, 12);
        for (std::size_t k = 0; k < frames; ++k) {
            ccdx::image<float> raw(side, side, ccdx::unit("adu"));
            const float exposure = 60.f + 30.f * float(k);
            for (std::size_t i = 0; i < raw.size(); ++i)
                raw.data().data()[i] = std::round(bias.data().data()[i] + dark.data().data()[i] * exposure / 300.f +
                                                  800.f * flat.data().data()[i] + noise(rng));
            raw.header().set("EXPTIME", double(exposure));
            raws.push_back(raw_folder / ("light" + std::to_string(k) + ".fits"));
            ccdx::write_fits(raw, raws.back(), u16);
            raw_bytes += fs::file_size(raws.back());
        }
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
        fs::create_directories(sizes);
        for (const fs::path& w : ccdx::process_files(raws, options, into(sizes))) output_bytes += fs::file_size(w);
        fs::remove_all(sizes);
    }
    ~night_files()
    {
        const char* keep = std::getenv("CCDX_BENCH_NIGHT_KEEP");
        if (keep && *keep == '1') {
            ccdx::write_fits(bias, folder / "bias.fits");
            ccdx::write_fits(dark, folder / "dark.fits");
            ccdx::write_fits(flat, folder / "flat.fits");
            std::fprintf(stderr, "bench files kept in %s\n", folder.string().c_str());
        } else {
            fs::remove_all(folder);
        }
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
}

void floor(benchmark::State& state)
{
    const night_files& n = night();
    std::vector<char> buffer(std::max(n.raw_bytes, n.output_bytes) / frames + (1 << 20), 1);
    for (auto _ : state) {
        const fs::path out = fresh_outputs(state);
        for (std::size_t k = 0; k < frames; ++k) {
            const int in = ::open(n.raws[k].c_str(), O_RDONLY);
            while (::read(in, buffer.data(), buffer.size()) > 0) {
            }
            ::close(in);
            const int fd = ::open((out / n.raws[k].filename()).c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
            std::size_t put = 0;
            const std::size_t size = n.output_bytes / frames;
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
    for (auto _ : state) ccdx::process_files(n.raws, n.options, into(fresh_outputs(state)));
    report(state);
}

}  // namespace

BENCHMARK(floor)->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(3);
BENCHMARK(one_by_one)->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(3);
BENCHMARK(pipelined)->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(3);

BENCHMARK_MAIN();
