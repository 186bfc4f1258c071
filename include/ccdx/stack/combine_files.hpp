#pragma once
// combine() over FITS files: every file read in bands of rows through the per-pixel kernel of
// combine_images.hpp, so that a stack of any size combines within a memory limit. Each file is
// opened once; the next band is read while the kernel runs on this one, into reused buffers.

#include <algorithm>
#include <cstddef>
#include <exception>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "ccdx/core/detail/threads.hpp"
#include "ccdx/core/error.hpp"
#include "ccdx/core/image.hpp"
#include "ccdx/io/fits.hpp"
#include "ccdx/stack/combine_images.hpp"

namespace ccdx {

// Combines FITS files, reading every file in bands of rows so that the input pixels held at
// once stay within options.memory_limit, however many or large the frames. Same results as combining the images in memory. Files of different shapes
// or units are an error naming them. With options.output set, the result is also written there.
template <class T = float>
image<T> combine(const std::vector<std::filesystem::path>& files, const combine_options& options = {},
                 combine_maps* maps = nullptr)
{
    detail::check_options(options, files.size());
    // Every file stays open through the bands, unless there are more than a process may hold.
    constexpr std::size_t max_open_files = 256;
    const bool keep_open = files.size() <= max_open_files;
    std::vector<std::string> names;
    std::vector<shape2> shapes;
    std::vector<unit> units;
    std::vector<detail::open_image> sources;
    header first_header;
    for (const auto& f : files) {
        detail::open_image in = detail::open_for_reading(f, options.read);
        names.push_back(f.filename().string());
        shapes.push_back(in.hdu.shape);
        units.push_back(in.unit);
        if (names.size() == 1) first_header = in.cards;
        if (keep_open) sources.push_back(std::move(in));
    }
    detail::check_same(names, shapes, units);
    detail::check_weight_maps(options, shapes[0]);
    const bool propagate = options.uncertainty == combined_uncertainty::propagated;

    std::vector<double> factors = options.scale;
    if (options.scale_function)  // one frame at a time
        for (const auto& f : files) factors.push_back(options.scale_function(read_fits<double>(f, options.read)));
    const detail::combine_plan<T> plan(options, files.size(), detail::checked_factors<T>(factors, names));

    const std::size_t rows = shapes[0][0], cols = shapes[0][1], n = files.size();
    detail::combine_output<T> out(shapes[0], units[0], maps);

    // memory_limit is the input in flight, as ccdproc's: the result is held whole, and a limit
    // below one row of every frame is met as closely as one row at a time allows.
    const std::size_t in_row = n * cols * (sizeof(T) + 1 + (propagate ? sizeof(T) : 0));
    const std::size_t room = std::max<std::size_t>(options.memory_limit / in_row, 1);
    // Two bands in turn, the next read while the kernel runs on this one, when the limit holds
    // two. Bands of a few tens of MB, reused, spare most of the page faults of fresh buffers
    // and leave only the first band's read unhidden.
    const bool overlap = room >= 2 && rows > 1;
    const std::size_t target = std::max<std::size_t>((std::size_t(64) << 20) / in_row, 8);
    const std::size_t band = overlap ? std::min({room / 2, (rows + 3) / 4, target}) : std::min(rows, room);

    read_options ro = options.read;
    if (!propagate) ro.uncertainty_hdu = "";
    std::vector<image<T>> bands[2] = {std::vector<image<T>>(n), std::vector<image<T>>(overlap ? n : 0)};
    const auto slot = [&](std::size_t k) -> std::vector<image<T>>& { return bands[overlap ? k % 2 : 0]; };
    const auto read_band = [&](std::vector<image<T>>& frames, std::size_t r0) {
        const section s{{r0, std::min(rows, r0 + band)}, {0, cols}};
        for (std::size_t i = 0; i < n; ++i) {
            frames[i] = keep_open ? detail::read_planes<T>(sources[i], ro, s, &frames[i])
                                  : detail::read_planes<T>(detail::open_for_reading(files[i], ro), ro, s, &frames[i]);
            if (propagate && !frames[i].has_uncertainty())
                throw value_error("combine: propagating uncertainties, but " + detail::stack_label(names, i) +
                                  " has no uncertainty extension");
        }
    };
    // While the next band is read, the reading thread is one of the threads the kernel may use:
    // more would have the kernel's evenly split rows wait for whichever thread lost its core.
    const auto kernel_threads = [&](bool reading) {
        const int all = detail::thread_count(options.threads);
        return reading ? std::max(1, all - 1) : all;
    };
    read_band(slot(0), 0);
    for (std::size_t r0 = 0, k = 0; r0 < rows; r0 += band, ++k) {
        const std::size_t r1 = std::min(rows, r0 + band);
        std::exception_ptr read_failure;
        std::thread next;
        if (overlap && r1 < rows)
            next = std::thread([&] {
                try {
                    read_band(slot(k + 1), r1);
                } catch (...) {
                    read_failure = std::current_exception();
                }
            });
        const std::vector<image<T>>& frames = slot(k);
        try {
            detail::combine_rows(plan, out, r0, r1,
                                 [&](std::size_t i, std::size_t r, const T*& d, const mask_t*& m, const T*& sg) {
                                     const image<T>& img = frames[i];
                                     const std::size_t off = (r - r0) * cols;
                                     d = img.data().data() + off;
                                     m = img.has_mask() ? img.mask().data() + off : nullptr;
                                     sg = propagate ? img.uncertainty().data() + off : nullptr;
                                 },
                                 kernel_threads(next.joinable()));
        } catch (...) {
            if (next.joinable()) next.join();
            throw;
        }
        if (next.joinable()) next.join();
        if (read_failure) std::rethrow_exception(read_failure);
        if (!overlap && r1 < rows) read_band(slot(k + 1), r1);
    }
    out.result.header() = detail::combined_header(std::move(first_header), names);
    out.result.set_name("combined");
    if (!options.output.empty()) write_fits(out.result, options.output, options.write);
    return std::move(out.result);
}

}  // namespace ccdx
