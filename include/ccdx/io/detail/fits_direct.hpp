#pragma once
// The pixels of an uncompressed image moved without cfitsio. A read takes the data unit with
// pread(), a few hundred kilobytes at a time into a buffer that stays in cache, and decodes it
// into the image (threads for large planes); a write encodes the image the same way into a
// buffer handed whole to write(), summing DATASUM from the encoded bytes on the way. cfitsio's
// own path copies every pixel through its 2880-byte buffers and converts one at a time.

#include <fcntl.h>
#include <fitsio.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <exception>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <system_error>
#include <vector>

#include "ccdx/core/detail/threads.hpp"
#include "ccdx/core/error.hpp"
#include "ccdx/io/detail/fits_layout.hpp"
#include "ccdx/io/detail/fits_pixels.hpp"
#include "ccdx/io/detail/fits_records.hpp"

#ifdef CCDX_USE_OPENMP
#include <omp.h>
#endif

namespace ccdx::detail {

// Where an uncompressed image's data unit sits in its file, and how its numbers are coded.
// `memory` holds the whole file when it was inflated in memory; else it is read from disk.
struct direct_image {
    long long data_start = 0;
    std::size_t rows = 0, cols = 0;
    pixel_coding coding;
    const unsigned char* memory = nullptr;
};

// Off only where a test compares the direct path with cfitsio's on the same files.
inline std::atomic<bool>& direct_io_enabled() noexcept
{
    static std::atomic<bool> on{true};
    return on;
}

// Bytes moved per pread/write: large enough that system calls cost nothing, small enough that
// the buffer stays in L2 between the kernel's copy and the decoding.
constexpr std::size_t direct_chunk = std::size_t{256} << 10;
// Planes of fewer stored bytes are read on one thread.
constexpr std::size_t direct_parallel_bytes = std::size_t{4} << 20;

class read_only_file {
public:
    explicit read_only_file(const std::filesystem::path& path) : path_(path)
    {
        do fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
        while (fd_ < 0 && errno == EINTR);
        if (fd_ < 0) throw_fits(path, "cannot be opened (" + std::generic_category().message(errno) + ")");
    }
    read_only_file(const read_only_file&) = delete;
    read_only_file& operator=(const read_only_file&) = delete;
    ~read_only_file() { ::close(fd_); }

    // Exactly n bytes at offset, or a fits_error: a file that shrank since its layout was read
    // is cut short, not padded.
    void read(long long offset, void* out, std::size_t n) const
    {
        auto* p = static_cast<char*>(out);
        while (n > 0) {
            const ::ssize_t got = ::pread(fd_, p, n, static_cast<off_t>(offset));
            if (got < 0 && errno == EINTR) continue;
            if (got < 0) throw_fits(path_, "cannot be read at offset " + std::to_string(offset) + " (" +
                                               std::generic_category().message(errno) + ")");
            if (got == 0) throw_fits(path_, "is truncated: it ends before offset " + std::to_string(offset) +
                                                " (changed while being read?)");
            p += got, n -= static_cast<std::size_t>(got), offset += got;
        }
    }

private:
    std::filesystem::path path_;
    int fd_ = -1;
};

// Rows [row0, row0 + nrows) x columns [col0, col0 + ncols) of the image into out (row-major).
template <class T>
void read_direct(const std::filesystem::path& path, const direct_image& img, std::size_t row0, std::size_t nrows,
                 std::size_t col0, std::size_t ncols, T* out)
{
    if (nrows == 0 || ncols == 0) return;
    std::optional<read_only_file> file;
    if (!img.memory) file.emplace(path);
    const std::size_t bytes = img.coding.bytes();
    const bool whole_rows = col0 == 0 && ncols == img.cols;
    // Whole rows are one run of bytes; otherwise each row's part is a run. Runs are cut into
    // work items of at most `chunk` pixels.
    const std::size_t run = whole_rows ? nrows * ncols : ncols;
    const std::size_t runs = whole_rows ? 1 : nrows;
    const std::size_t chunk = std::max<std::size_t>(1, direct_chunk / bytes);
    const std::size_t per_run = (run + chunk - 1) / chunk;
    const auto items = static_cast<std::ptrdiff_t>(runs * per_run);

    auto read_item = [&](std::ptrdiff_t k, std::vector<unsigned char>& buffer) {
        const std::size_t r = static_cast<std::size_t>(k) / per_run, part = static_cast<std::size_t>(k) % per_run;
        const std::size_t first = part * chunk, n = std::min(chunk, run - first);
        const long long offset = img.data_start + static_cast<long long>(((row0 + r) * img.cols + col0 + first) * bytes);
        if (file) file->read(offset, buffer.data(), n * bytes);
        decode_pixels(file ? buffer.data() : img.memory + offset, n, img.coding, out + r * ncols + first);
    };

#ifdef CCDX_USE_OPENMP
    if (nrows * ncols * bytes >= direct_parallel_bytes && thread_count(0) > 1) {
        // An exception cannot leave an OpenMP region: the first one is kept and rethrown.
        std::exception_ptr failure;
#pragma omp parallel num_threads(thread_count(0))
        {
            std::vector<unsigned char> buffer(chunk * bytes);
#pragma omp for schedule(static)
            for (std::ptrdiff_t k = 0; k < items; ++k) {
                try {
                    read_item(k, buffer);
                } catch (...) {
#pragma omp critical(ccdx_direct_read)
                    if (!failure) failure = std::current_exception();
                }
            }
        }
        if (failure) std::rethrow_exception(failure);
        return;
    }
#endif
    std::vector<unsigned char> buffer(chunk * bytes);
    for (std::ptrdiff_t k = 0; k < items; ++k) read_item(k, buffer);
}

// Where cfitsio placed one HDU of a file it built: header, data, and the end of the data's fill.
struct hdu_address {
    long long header_start = 0, data_start = 0, data_end = 0;
};

// One data unit to write: rows x cols numbers of `bytes` bytes each, encoded on demand by
// encode(first, n, out) (n a multiple of 4 except at the end).
struct direct_plane {
    std::size_t rows = 0, cols = 0, bytes = 0;
    std::function<void(std::size_t first, std::size_t n, unsigned char* out)> encode;
};

namespace direct_detail {

// The 80-character card of `keyword` (8 characters, blank-padded) in a header, or nullptr.
inline unsigned char* find_card(unsigned char* header, std::size_t size, const char* keyword)
{
    for (std::size_t at = 0; at + 80 <= size; at += 80)
        if (std::memcmp(header + at, keyword, 8) == 0) return header + at;
    return nullptr;
}

// Rewrites an integer card's value (fixed format: right-aligned in columns 11-30).
inline bool set_integer(unsigned char* header, std::size_t size, const char* keyword, std::size_t value)
{
    unsigned char* c = find_card(header, size, keyword);
    if (!c || c[8] != '=') return false;
    char digits[24];
    std::snprintf(digits, sizeof digits, "%20zu", value);
    std::memcpy(c + 10, digits, 20);
    return true;
}

}  // namespace direct_detail

// Writes a file whose headers cfitsio built in `headers` for 1 x 1 stand-ins of the planes
// (so that it never fills the real data units with zeros in memory), and whose data units
// are encoded here, a chunk at a time, to `out` (a staged_file). Each header gets its plane's
// NAXIS1 and NAXIS2. With `checksum`, each header carries the placeholders CHECKSUM =
// '0000000000000000' and DATASUM = '         0' (as cfitsio writes them), filled in from the
// data's sum; the header is then rewritten in place.
template <class File>
void write_direct(File& out, unsigned char* headers, const std::vector<hdu_address>& hdus,
                  const std::vector<direct_plane>& planes, bool checksum, const std::filesystem::path& path)
{
    constexpr std::size_t chunk_pixels = std::size_t{1} << 16;  // a multiple of 4: sums stay word-aligned
    constexpr auto block = static_cast<std::size_t>(fits_block);
    std::size_t widest = 1;
    for (const direct_plane& p : planes) widest = std::max(widest, p.bytes);
    std::vector<unsigned char> buffer(chunk_pixels * widest + block);
    std::size_t at = 0;  // where the HDU begins in the file
    for (std::size_t h = 0; h < hdus.size(); ++h) {
        const direct_plane& p = planes[h];
        unsigned char* header = headers + hdus[h].header_start;
        const auto header_bytes = static_cast<std::size_t>(hdus[h].data_start - hdus[h].header_start);
        if (!direct_detail::set_integer(header, header_bytes, "NAXIS1  ", p.cols) ||
            !direct_detail::set_integer(header, header_bytes, "NAXIS2  ", p.rows))
            throw_fits(path, "HDU " + std::to_string(h) + ": its NAXISn cards are not where ccdx put them");
        out.write(header, header_bytes);
        const std::size_t pixels = p.rows * p.cols;
        const std::size_t fill = (block - pixels * p.bytes % block) % block;
        std::uint32_t sum = 0;
        for (std::size_t first = 0; first < pixels; first += chunk_pixels) {
            const std::size_t n = std::min(chunk_pixels, pixels - first);
            std::size_t bytes = n * p.bytes;
            p.encode(first, n, buffer.data());
            if (first + n == pixels) {
                // The last chunk carries the zeros that fill the data unit's last block.
                std::memset(buffer.data() + bytes, 0, fill);
                bytes += fill;
            }
            if (checksum) sum = ones_complement_sum(buffer.data(), bytes, sum);  // whole words: chunks and blocks are
            out.write(buffer.data(), bytes);
        }
        if (checksum) {
            unsigned char* datasum = direct_detail::find_card(header, header_bytes, "DATASUM ");
            unsigned char* chksum = direct_detail::find_card(header, header_bytes, "CHECKSUM");
            if (!datasum || !chksum || datasum[10] != '\'' || chksum[10] != '\'')
                throw_fits(path, "HDU " + std::to_string(h) + ": its checksum cards are not where ccdx put them");
            // As cfitsio leaves it: the digits left-aligned, padded to 8 inside the quotes.
            char value[24];
            std::snprintf(value, sizeof value, "'%-8u'%*s", static_cast<unsigned>(sum), 10, "");
            std::memcpy(datasum + 10, value, 20);
            std::memcpy(chksum + 11, "0000000000000000", 16);
            char ascii[17] = {};
            ffesum(ones_complement_sum(header, header_bytes, sum), 1 /* complement: the HDU sums to -0 */, ascii);
            std::memcpy(chksum + 11, ascii, 16);
            out.write_at(at, header, header_bytes);
        }
        at += header_bytes + pixels * p.bytes + fill;
    }
}

}  // namespace ccdx::detail
