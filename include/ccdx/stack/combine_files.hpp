#pragma once
// combine() over FITS files: every file read in bands of rows through the per-pixel kernel of
// combine_images.hpp, so that a stack of any size combines within a memory limit.

#include <cstddef>
#include <filesystem>
#include <string>
#include <vector>

#include "ccdx/core/error.hpp"
#include "ccdx/core/image.hpp"
#include "ccdx/io/fits.hpp"
#include "ccdx/stack/combine_images.hpp"

namespace ccdx {

// Combines FITS files, reading every file in bands of rows so that the pixels held at once
// (bands of all inputs plus the result) stay within options.memory_limit, however many or
// large the frames. Same results as combining the images in memory. Files of different shapes
// or units are an error naming them. With options.output set, the result is also written there.
template <class T = float>
image<T> combine(const std::vector<std::filesystem::path>& files, const combine_options& options = {},
                 combine_maps* maps = nullptr)
{
    detail::check_options(options, files.size());
    if (!options.output.empty() && !options.write.overwrite && std::filesystem::exists(options.output))
        throw fits_error("combine: output file '" + options.output.string() +
                         "' exists; set write.overwrite to replace it");
    std::vector<std::string> names;
    std::vector<shape2> shapes;
    std::vector<unit> units;
    header first_header;
    for (const auto& f : files) {
        names.push_back(f.filename().string());
        shapes.push_back(read_fits_shape(f, options.read));
        // The unit as read_fits decides it, from one row (or none, for an empty image).
        units.push_back(read_fits_rows<T>(f, 0, shapes.back()[0] > 0 ? 1 : 0, options.read).unit());
        if (names.size() == 1) first_header = read_fits_header(f, options.read);
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

    // Bytes per row: the output (data, uncertainty, mask, maps) stays whole; inputs come in bands.
    const std::size_t out_row = cols * (2 * sizeof(T) + 1 + (maps ? 6 : 0));
    const std::size_t in_row = n * cols * (sizeof(T) + 1 + (propagate ? sizeof(T) : 0));
    const std::size_t fixed = out_row * rows;
    if (fixed + in_row > options.memory_limit)
        throw value_error("combine: a memory_limit of " + std::to_string(options.memory_limit) +
                          " bytes cannot hold the result (" + std::to_string(fixed) + " bytes) and one row of " +
                          std::to_string(n) + " frames (" + std::to_string(in_row) + " bytes)");
    const std::size_t band = std::max<std::size_t>(1, std::min(rows, (options.memory_limit - fixed) / in_row));

    read_options ro = options.read;
    if (!propagate) ro.uncertainty_hdu = "";
    std::vector<image<T>> frames(n);
    for (std::size_t r0 = 0; r0 < rows; r0 += band) {
        const std::size_t r1 = std::min(rows, r0 + band);
        for (std::size_t i = 0; i < n; ++i) {
            frames[i] = image<T>();  // release the previous band first
            frames[i] = read_fits_rows<T>(files[i], r0, r1, ro);
            if (propagate && !frames[i].has_uncertainty())
                throw value_error("combine: propagating uncertainties, but " + detail::stack_label(names, i) +
                                  " has no uncertainty extension");
        }
        detail::combine_rows(plan, out, r0, r1,
                             [&](std::size_t i, std::size_t r, const T*& d, const mask_t*& m, const T*& s) {
                                 const image<T>& img = frames[i];
                                 const std::size_t off = (r - r0) * cols;
                                 d = img.data().data() + off;
                                 m = img.has_mask() ? img.mask().data() + off : nullptr;
                                 s = propagate ? img.uncertainty().data() + off : nullptr;
                             });
    }
    out.result.header() = detail::combined_header(std::move(first_header), names);
    out.result.set_name("combined");
    if (!options.output.empty()) write_fits(out.result, options.output, options.write);
    return std::move(out.result);
}

}  // namespace ccdx
