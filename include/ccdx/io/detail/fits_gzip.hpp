#pragma once
// A FITS file gzipped as a whole (.fits.gz, as archives serve them), inflated by libdeflate into
// one buffer that cfitsio sees as a file in memory and ccdx's direct path decodes from. cfitsio
// would inflate it with zlib, several times slower, and then copy every pixel once more.

#include <libdeflate.h>

#include <algorithm>
#include <cstddef>
#include <cstdlib>
#include <filesystem>
#include <memory>

#include "ccdx/core/detail/pages.hpp"
#include "ccdx/io/detail/fits_direct.hpp"

namespace ccdx::detail {

// Uncompressed bytes from std::malloc, freed with the struct. cfitsio's memory driver keeps the
// addresses of both members for as long as the file is open: the struct must not move.
struct inflated_file {
    void* data = nullptr;
    std::size_t size = 0;

    inflated_file() = default;
    inflated_file(const inflated_file&) = delete;
    inflated_file& operator=(const inflated_file&) = delete;
    ~inflated_file() { std::free(data); }
};

// The uncompressed bytes of the gzip file at `path`, whose trailer claims `claimed` bytes, or
// nullptr when libdeflate cannot inflate it (damage, a size past what deflate can reach):
// cfitsio then opens the file itself and its reasons are reported. A file of several gzip
// members (`cat a.gz b.gz`, as gzip reads it) is inflated whole, where cfitsio stops after the
// first; the trailer then gives only the last member's size, and the buffer grows as needed.
inline std::unique_ptr<inflated_file> inflate_gzip(const std::filesystem::path& path, std::size_t claimed)
{
    std::error_code ec;
    const std::size_t compressed = static_cast<std::size_t>(std::filesystem::file_size(path, ec));
    if (ec) return nullptr;
    const std::unique_ptr<unsigned char, decltype(&std::free)> in(static_cast<unsigned char*>(std::malloc(compressed)),
                                                                  &std::free);
    const std::unique_ptr<libdeflate_decompressor, decltype(&libdeflate_free_decompressor)> inflater(
        libdeflate_alloc_decompressor(), &libdeflate_free_decompressor);
    if (!in || !inflater) return nullptr;
    read_only_file(path).read(0, in.get(), compressed);
    const std::size_t most = 1032 * compressed + 65536;  // deflate's largest ratio
    auto out = std::make_unique<inflated_file>();
    std::size_t capacity = claimed, used = 0;
    while (used < compressed) {
        if (!out->data) {
            out->data = std::malloc(capacity);
            if (!out->data) return nullptr;
            prefer_huge_pages(out->data, capacity);
        }
        std::size_t read = 0, made = 0;
        const libdeflate_result r =
            libdeflate_gzip_decompress_ex(inflater.get(), in.get() + used, compressed - used,
                                          static_cast<unsigned char*>(out->data) + out->size, capacity - out->size, &read, &made);
        if (r == LIBDEFLATE_INSUFFICIENT_SPACE && capacity < most) {
            capacity = std::min(most, 2 * capacity + claimed);
            void* larger = std::realloc(out->data, capacity);
            if (!larger) return nullptr;
            out->data = larger;
            continue;
        }
        if (r != LIBDEFLATE_SUCCESS) return nullptr;
        used += read, out->size += made;
    }
    return out;
}

}  // namespace ccdx::detail
