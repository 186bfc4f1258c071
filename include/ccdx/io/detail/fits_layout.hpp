#pragma once
// What a FITS file's headers promise, read by ccdx before cfitsio acts on them: where each
// HDU's data lie, and whether a tile-compressed image can be decoded safely. cfitsio trusts
// ZTILEn, ZNAXIS, the tile descriptors and the bit streams of Rice, PLIO and HCOMPRESS tiles;
// damage in any of them crashes it (a division by zero, reads and writes past its buffers), so
// they are checked here first and refused as a fits_error naming the file, the HDU and the tile.
// Sizes are computed in checked arithmetic: an absurd NAXISn or PCOUNT is damage, not overflow.

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <zlib.h>

#include "ccdx/core/header.hpp"
#include "ccdx/io/detail/fits_pixels.hpp"
#include "ccdx/io/detail/fits_records.hpp"

namespace ccdx::detail {

// Reads n bytes at an offset of the file, as the FITS reader sees it (decompressed if need be).
using read_bytes = std::function<void(long long offset, void* out, std::size_t n)>;

constexpr long long fits_block = 2880;

// A variable-length column of a compressed image's table: where its descriptor sits in a row.
struct tile_column {
    long long offset = 0;   // byte offset of the descriptor within a row
    bool wide = false;      // 'Q' descriptors (64-bit) rather than 'P' (32-bit)
    int element_bytes = 1;  // bytes per array element (B 1, I 2, J 4, ...)
};

// A tile-compressed image (ZIMAGE = T): what cfitsio needs to decode it.
struct tiled_image {
    std::string algorithm;                // ZCMPTYPE
    int zbitpix = 0;
    std::vector<long long> axes, tile;    // ZNAXISn, ZTILEn
    long long tiles = 0;                  // how many tiles the image has
    int blocksize = 32, bytepix = 4;      // Rice parameters (ZNAMEi/ZVALi)
    long long row_bytes = 0, rows = 0;    // the table: NAXIS1, NAXIS2
    long long table_start = 0;            // absolute offset of the table's rows
    long long heap_start = 0, heap_bytes = 0;  // absolute offset and size of the heap
    std::optional<tile_column> compressed, uncompressed, gzipped;

    // The number of pixels of tile t (0-based), edge tiles being smaller.
    long long pixels_of(long long t) const
    {
        long long n = 1;
        for (std::size_t k = 0; k < axes.size(); ++k) {
            const long long across = (axes[k] + tile[k] - 1) / tile[k];
            const long long i = t % across;
            t /= across;
            n *= std::min(tile[k], axes[k] - i * tile[k]);
        }
        return n;
    }
};

struct hdu_extent {
    long long header_start = 0, data_start = 0, data_bytes = 0;  // data_bytes without padding
    std::optional<tiled_image> tiles;
    std::optional<pixel_coding> image;  // an uncompressed image with data: how its numbers read
};

struct fits_layout {
    std::vector<hdu_extent> hdus;
    long long file_size = 0;
    bool header_cut_short = false;  // the last header has no END before the file ends
    long long trailing_bytes = 0;   // bytes after the last HDU too few to form another
};

namespace layout_detail {

// a * b, or nullopt when it exceeds what any file can hold (2^62 bytes).
inline std::optional<long long> times(long long a, long long b)
{
    constexpr long long limit = 1LL << 62;
    if (a < 0 || b < 0) return std::nullopt;
    if (a != 0 && b > limit / a) return std::nullopt;
    return a * b;
}

inline std::optional<long long> plus(long long a, long long b)
{
    constexpr long long limit = 1LL << 62;
    if (a < 0 || b < 0 || a > limit - b) return std::nullopt;
    return a + b;
}

class reader {
public:
    reader(const std::filesystem::path& path, int hdu, const header& h) : path_(path), hdu_(hdu), h_(h) {}

    [[noreturn]] void fail(const std::string& what) const
    {
        throw_fits(path_, "HDU " + std::to_string(hdu_) + ": " + what + " (damaged file?)");
    }

    std::optional<long long> integer(const std::string& key) const
    {
        const card* c = h_.find(key);
        if (!c || std::holds_alternative<std::monostate>(c->value)) return std::nullopt;
        if (const auto* i = std::get_if<std::int64_t>(&c->value)) return *i;
        fail(key + " = " + to_string(c->value) + " is not an integer");
    }
    long long integer(const std::string& key, long long fallback) const { return integer(key).value_or(fallback); }
    long long required(const std::string& key) const
    {
        if (const auto v = integer(key)) return *v;
        fail(key + " is missing");
    }
    std::string text(const std::string& key) const
    {
        const card* c = h_.find(key);
        if (!c) return "";
        if (const auto* s = std::get_if<std::string>(&c->value)) return std::string(trim(*s));
        fail(key + " = " + to_string(c->value) + " is not a string");
    }
    // BZERO, BSCALE and their like: absent (the fallback), or a finite number.
    double finite_number(const std::string& key, double fallback = 0) const
    {
        const card* c = h_.find(key);
        if (!c) return fallback;
        if (const auto* i = std::get_if<std::int64_t>(&c->value)) return static_cast<double>(*i);
        if (const auto* d = std::get_if<double>(&c->value); d && std::isfinite(*d)) return *d;
        fail(key + " = " + to_string(c->value) + " is not a finite number");
    }

private:
    const std::filesystem::path& path_;
    int hdu_;
    const header& h_;
};

inline bool valid_bitpix(long long b) { return b == 8 || b == 16 || b == 32 || b == 64 || b == -32 || b == -64; }

// Bytes per element of a binary-table type letter; 0 for letters FITS does not define.
inline int element_bytes(char type)
{
    switch (type) {
    case 'L': case 'X': case 'B': case 'A': return 1;
    case 'I': return 2;
    case 'J': case 'E': return 4;
    case 'K': case 'D': case 'C': case 'P': return 8;
    case 'M': case 'Q': return 16;
    default: return 0;
    }
}

inline tiled_image read_tiled_image(const reader& r, long long data_start)
{
    tiled_image t;
    t.algorithm = r.text("ZCMPTYPE");
    static const char* const known[] = {"RICE_1", "RICE_ONE", "GZIP_1", "GZIP_2", "PLIO_1", "HCOMPRESS_1", "NOCOMPRESS"};
    if (std::none_of(std::begin(known), std::end(known), [&](const char* k) { return t.algorithm == k; }))
        r.fail("ZCMPTYPE = '" + t.algorithm + "' is not a tile compression FITS defines");
    if (t.algorithm == "RICE_ONE") t.algorithm = "RICE_1";
    t.zbitpix = static_cast<int>(r.required("ZBITPIX"));
    if (!valid_bitpix(t.zbitpix)) r.fail("ZBITPIX = " + std::to_string(t.zbitpix) + " is not a FITS pixel type");
    const long long naxis = r.required("ZNAXIS");
    if (naxis < 1 || naxis > 6) r.fail("ZNAXIS = " + std::to_string(naxis) + " is outside 1..6");
    t.tiles = 1;
    long long tile_pixels = 1;
    for (long long k = 1; k <= naxis; ++k) {
        const std::string n = std::to_string(k);
        const long long axis = r.required("ZNAXIS" + n);
        const long long tile = r.integer("ZTILE" + n, k == 1 ? axis : 1);
        if (axis < 1) r.fail("ZNAXIS" + n + " = " + std::to_string(axis) + " is not a positive length");
        if (tile < 1) r.fail("ZTILE" + n + " = " + std::to_string(tile) + " is not a positive tile size");
        t.axes.push_back(axis);
        t.tile.push_back(std::min(tile, axis));
        const auto tiles = times(t.tiles, (axis + t.tile.back() - 1) / t.tile.back());
        const auto pixels = times(tile_pixels, t.tile.back());
        if (!tiles || !pixels || *pixels > INT32_MAX) r.fail("its tiles are larger than cfitsio can decode");
        t.tiles = *tiles, tile_pixels = *pixels;
    }
    for (int i = 1;; ++i) {
        const std::string name = r.text("ZNAME" + std::to_string(i));
        if (name.empty()) break;
        const std::string value_key = "ZVAL" + std::to_string(i);
        if (iequals(name, "BLOCKSIZE")) t.blocksize = static_cast<int>(std::clamp(r.integer(value_key, 32), -1LL, 1LL << 20));
        if (iequals(name, "BYTEPIX")) t.bytepix = static_cast<int>(std::clamp(r.integer(value_key, 4), -1LL, 16LL));
    }
    if (t.algorithm == "RICE_1") {
        if (t.blocksize < 1) r.fail("the Rice BLOCKSIZE is not positive");
        if (t.bytepix != 1 && t.bytepix != 2 && t.bytepix != 4) r.fail("the Rice BYTEPIX is not 1, 2 or 4");
    }
    // The table: descriptor columns among fixed-width ones.
    t.row_bytes = r.required("NAXIS1");
    t.rows = r.required("NAXIS2");
    if (t.rows < t.tiles)
        r.fail("the image has " + std::to_string(t.tiles) + " tiles but its table " + std::to_string(t.rows) + " rows");
    const long long fields = r.required("TFIELDS");
    if (fields < 1 || fields > 999) r.fail("TFIELDS = " + std::to_string(fields) + " is outside 1..999");
    long long offset = 0;
    for (long long k = 1; k <= fields; ++k) {
        const std::string form = r.text("TFORM" + std::to_string(k));
        std::size_t at = 0;
        long long repeat = 0;
        while (at < form.size() && form[at] >= '0' && form[at] <= '9' && repeat < (1LL << 40))
            repeat = repeat * 10 + (form[at++] - '0');
        if (at == 0) repeat = 1;
        const char type = at < form.size() ? form[at] : '?';
        const int width = element_bytes(type);
        if (width == 0) r.fail("TFORM" + std::to_string(k) + " = '" + form + "' is not a column format");
        const auto bytes = type == 'X' ? std::optional<long long>((repeat + 7) / 8) : times(repeat, width);
        if (!bytes) r.fail("TFORM" + std::to_string(k) + " = '" + form + "' is wider than a file can hold");
        if (type == 'P' || type == 'Q') {
            const std::string name = r.text("TTYPE" + std::to_string(k));
            const int element = element_bytes(form.size() > at + 1 ? form[at + 1] : '?');
            tile_column column{offset, type == 'Q', element};
            if (name == "COMPRESSED_DATA") t.compressed = column;
            else if (name == "UNCOMPRESSED_DATA") t.uncompressed = column;
            else if (name == "GZIP_COMPRESSED_DATA") t.gzipped = column;
            if (element == 0 && (t.compressed || t.uncompressed || t.gzipped))
                r.fail("TFORM" + std::to_string(k) + " = '" + form + "' has no element type");
        }
        const auto next = plus(offset, *bytes);
        if (!next) r.fail("its table rows are wider than a file can hold");
        offset = *next;
    }
    if (offset != t.row_bytes)
        r.fail("its columns take " + std::to_string(offset) + " bytes a row, NAXIS1 says " + std::to_string(t.row_bytes));
    if (!t.compressed) r.fail("the compressed image has no COMPRESSED_DATA column");
    const auto table_bytes = times(t.row_bytes, t.rows);
    const long long heap_offset = r.integer("THEAP", table_bytes.value_or(-1));
    const long long pcount = r.integer("PCOUNT", 0);
    if (!table_bytes || heap_offset < *table_bytes || heap_offset - *table_bytes > pcount)
        r.fail("THEAP = " + std::to_string(heap_offset) + " does not point into the heap");
    t.table_start = data_start;
    t.heap_start = data_start + heap_offset;
    t.heap_bytes = pcount - (heap_offset - *table_bytes);
    return t;
}

}  // namespace layout_detail

// Walks every header of the file and records where each HDU's data lie. Headers that would
// make cfitsio crash or compute impossible sizes throw; a file cut short is only recorded
// (reading a header of an intact HDU still works; reading pixels checks completeness).
inline fits_layout scan_layout(const std::filesystem::path& path, long long size, const read_bytes& read)
{
    using namespace layout_detail;
    fits_layout layout;
    layout.file_size = size;
    std::string records;
    long long at = 0;
    for (int index = 0; at < size; ++index) {
        if (size - at < fits_block) {
            layout.trailing_bytes = size - at;
            break;
        }
        // The header: blocks up to the one holding END.
        hdu_extent hdu;
        hdu.header_start = at;
        records.clear();
        bool ended = false;
        while (!ended) {
            if (size - at < fits_block) {
                layout.header_cut_short = true;
                return layout;
            }
            const std::size_t old = records.size();
            records.resize(old + fits_block);
            read(at, &records[old], fits_block);
            at += fits_block;
            // As cfitsio reads it: "END" and a blank, whatever follows.
            for (std::size_t c = old; c < records.size() && !ended; c += 80)
                ended = records.compare(c, 4, "END ") == 0;
        }
        header h;
        parse_records(records, h);
        const reader r(path, index, h);
        if (records.compare(0, 8, index == 0 ? "SIMPLE  " : "XTENSION") != 0)
            r.fail(index == 0 ? "the file does not begin with SIMPLE" : "the header does not begin with XTENSION");
        const long long bitpix = r.required("BITPIX");
        if (!valid_bitpix(bitpix)) r.fail("BITPIX = " + std::to_string(bitpix) + " is not a FITS pixel type");
        const long long naxis = r.required("NAXIS");
        if (naxis < 0 || naxis > 999) r.fail("NAXIS = " + std::to_string(naxis) + " is outside 0..999");
        const bool groups = index == 0 && h.find("GROUPS") && h.get<bool>("GROUPS").value_or(false);
        std::optional<long long> elements = naxis > 0 ? 1 : 0;
        for (long long k = 1; k <= naxis; ++k) {
            const long long n = r.required("NAXIS" + std::to_string(k));
            if (n < 0) r.fail("NAXIS" + std::to_string(k) + " = " + std::to_string(n) + " is negative");
            if (!(groups && k == 1 && n == 0)) elements = elements ? times(*elements, n) : std::nullopt;
        }
        const long long pcount = r.integer("PCOUNT", 0), gcount = r.integer("GCOUNT", 1);
        if (pcount < 0 || gcount < 0) r.fail("PCOUNT or GCOUNT is negative");
        for (const char* key : {"BZERO", "BSCALE", "ZZERO", "ZSCALE"}) r.finite_number(key);
        const auto with_heap = elements ? plus(*elements, pcount) : std::nullopt;
        const auto groups_of = with_heap ? times(*with_heap, gcount) : std::nullopt;
        const auto bytes = groups_of ? times(*groups_of, std::abs(bitpix) / 8) : std::nullopt;
        const auto end = bytes ? plus(at, (*bytes + fits_block - 1) / fits_block * fits_block) : std::nullopt;
        if (!end) r.fail("its NAXISn and PCOUNT claim more data than any file can hold");
        hdu.data_start = at;
        hdu.data_bytes = *bytes;
        const std::string xtension = r.text("XTENSION");
        if (xtension == "BINTABLE" && h.get<bool>("ZIMAGE").value_or(false))
            hdu.tiles = read_tiled_image(r, hdu.data_start);
        else if ((index == 0 || xtension == "IMAGE") && !groups && *bytes > 0) {
            pixel_coding c;
            c.bitpix = static_cast<int>(bitpix);
            c.zero = r.finite_number("BZERO", 0);
            c.scale = r.finite_number("BSCALE", 1);
            const card* blank = bitpix > 0 ? h.find("BLANK") : nullptr;
            if (blank && std::holds_alternative<std::int64_t>(blank->value)) c.blank = std::get<std::int64_t>(blank->value);
            // A BLANK that is not an integer is cfitsio's to judge.
            if (!blank || c.blank) hdu.image = c;
        }
        layout.hdus.push_back(std::move(hdu));
        at = *end;
    }
    return layout;
}

namespace layout_detail {

// Whether cfitsio's Rice decoder stays inside these n bytes while decoding `pixels` pixels:
// the walk reads exactly the bytes it reads, in the same order, without decoding values.
inline bool rice_fits(const unsigned char* c, std::size_t n, long long pixels, int block, int bytepix)
{
    const int fsbits = bytepix == 1 ? 3 : bytepix == 2 ? 4 : 5;
    const int fsmax = bytepix == 1 ? 6 : bytepix == 2 ? 14 : 25;
    const int bbits = 1 << fsbits;
    std::size_t p = static_cast<std::size_t>(bytepix);  // the first pixel, stored as is
    if (p >= n) return false;
    unsigned b = c[p++];
    int nbits = 8;
    auto next = [&](unsigned& byte) {
        if (p >= n) return false;
        byte = c[p++];
        return true;
    };
    for (long long i = 0; i < pixels;) {
        unsigned byte = 0;
        nbits -= fsbits;
        while (nbits < 0) {
            if (!next(byte)) return false;
            b = (b << 8) | byte;
            nbits += 8;
        }
        const int fs = static_cast<int>(b >> nbits) - 1;
        b &= (1u << nbits) - 1;
        const long long end = std::min(i + block, pixels);
        if (fs > fsmax) return false;  // no encoder writes it; cfitsio would shift out of range
        if (fs < 0) {
            i = end;
        } else if (fs == fsmax) {
            for (; i < end; ++i) {
                for (int k = bbits - nbits - 8; k >= 0; k -= 8)
                    if (!next(byte)) return false;
                if (nbits > 0) {
                    if (!next(byte)) return false;
                    b = byte & ((1u << nbits) - 1);
                } else {
                    b = 0;
                }
            }
        } else {
            for (; i < end; ++i) {
                while (b == 0) {
                    if (!next(b)) return false;
                    nbits += 8;
                }
                int width = 0;
                while ((b >> width) != 0) ++width;
                nbits = width - 1;  // the leading one-bit and the zeros before it are consumed
                b ^= 1u << nbits;
                nbits -= fs;
                while (nbits < 0) {
                    if (!next(byte)) return false;
                    b = (b << 8) | byte;
                    nbits += 8;
                }
                b &= (1u << nbits) - 1;
            }
        }
    }
    return true;
}

// Whether cfitsio's PLIO decoder stays inside these n 16-bit words: the list's length, which
// the list states itself, must not exceed them, nor may its last instruction need one more.
inline bool plio_fits(const unsigned char* bytes, std::size_t n)
{
    auto word = [&](std::size_t i) { return static_cast<short>((bytes[2 * i] << 8) | bytes[2 * i + 1]); };
    if (n < 3) return false;
    long long length = word(2);
    if (length <= 0) {
        if (n < 5) return false;
        length = (static_cast<long long>(word(4)) << 15) + word(3);
    }
    if (length < 0 || static_cast<std::size_t>(length) > n) return false;
    // cfitsio's 1-based walk of the instructions; opcode 1 takes the next word as its operand.
    for (long long ip = 4; ip <= length; ++ip) {
        if (word(static_cast<std::size_t>(ip - 1)) / 4096 != 1) continue;
        if (ip >= static_cast<long long>(n)) return false;
        ++ip;
    }
    return true;
}

// Whether an HCOMPRESS tile's own header agrees with the tile: cfitsio writes nx * ny pixels
// into a buffer of the tile's size.
inline bool hcompress_fits(const unsigned char* c, std::size_t n, long long pixels)
{
    if (n < 25 || c[0] != 0xDD || c[1] != 0x99) return false;
    auto int32 = [&](std::size_t i) {
        return static_cast<std::int32_t>((std::uint32_t{c[i]} << 24) | (std::uint32_t{c[i + 1]} << 16) |
                                         (std::uint32_t{c[i + 2]} << 8) | c[i + 3]);
    };
    const long long nx = int32(2), ny = int32(6), scale = int32(10);
    const bool planes_ok = c[22] <= 32 && c[23] <= 32 && c[24] <= 32;
    return nx > 0 && ny > 0 && nx * ny == pixels && scale >= 0 && planes_ok;
}

// Whether a GZIP tile is one complete deflate stream of its pixels, at 1, 2, 4 or 8 bytes each
// (writers differ: integers widened to 32 bits, floats quantized or not): cfitsio leaks its
// buffers when a tile's stream fails.
inline bool gzip_fits(const unsigned char* c, std::size_t n, std::size_t pixels)
{
    std::vector<unsigned char> out(pixels * 8 + 1);
    z_stream z{};
    if (inflateInit2(&z, 15 + 32) != Z_OK) return false;  // gzip or zlib header, told apart
    z.next_in = const_cast<unsigned char*>(c);
    z.avail_in = static_cast<uInt>(std::min<std::size_t>(n, UINT32_MAX));
    z.next_out = out.data();
    z.avail_out = static_cast<uInt>(out.size());
    const int status = inflate(&z, Z_FINISH);
    const std::size_t produced = out.size() - z.avail_out;
    inflateEnd(&z);
    const std::size_t each = pixels ? produced / pixels : 0;
    return status == Z_STREAM_END && produced == each * pixels && (each == 1 || each == 2 || each == 4 || each == 8);
}

inline long long big_endian(const unsigned char* p, int bytes)
{
    unsigned long long v = 0;
    for (int i = 0; i < bytes; ++i) v = (v << 8) | p[i];
    return bytes == 4 ? static_cast<std::int32_t>(v) : static_cast<long long>(v);
}

}  // namespace layout_detail

// Checks every tile of a tile-compressed HDU before cfitsio decodes any: descriptors inside the
// heap, and each compressed tile's stream within its bytes.
inline void check_tiles(const std::filesystem::path& path, int index, const tiled_image& t, const read_bytes& read)
{
    using namespace layout_detail;
    std::vector<unsigned char> table(static_cast<std::size_t>(t.row_bytes * t.tiles)), bytes;
    read(t.table_start, table.data(), table.size());
    auto fail = [&](long long tile, const std::string& what) {
        throw_fits(path, "HDU " + std::to_string(index) + ", tile " + std::to_string(tile + 1) + " of " +
                             std::to_string(t.tiles) + ": " + what + " (damaged tile)");
    };
    for (long long k = 0; k < t.tiles; ++k) {
        const unsigned char* row = table.data() + k * t.row_bytes;
        long long elements = 0, offset = 0;
        auto locate = [&](const tile_column& c) {
            const int w = c.wide ? 8 : 4;
            elements = big_endian(row + c.offset, w);
            offset = big_endian(row + c.offset + w, w);
            const auto size = times(elements, c.element_bytes);
            const auto end = size ? plus(offset, *size) : std::nullopt;
            if (!end || *end > t.heap_bytes) fail(k, "its data lie outside the table's heap");
        };
        for (const auto& c : {t.uncompressed, t.gzipped})
            if (c) locate(*c);
        locate(*t.compressed);
        if (elements == 0) continue;  // stored in one of the other columns instead
        const long long pixels = t.pixels_of(k);
        const std::size_t n = static_cast<std::size_t>(elements * t.compressed->element_bytes);
        bytes.resize(n);
        read(t.heap_start + offset, bytes.data(), n);
        if (t.algorithm == "RICE_1" && !rice_fits(bytes.data(), n, pixels, t.blocksize, t.bytepix))
            fail(k, "its Rice data end before its " + std::to_string(pixels) + " pixels");
        if (t.algorithm == "PLIO_1" && (t.compressed->element_bytes != 2 || !plio_fits(bytes.data(), n / 2)))
            fail(k, "its PLIO line list is longer than its data");
        const bool gzip = t.algorithm == "GZIP_1" || t.algorithm == "GZIP_2";
        if (gzip && !gzip_fits(bytes.data(), n, static_cast<std::size_t>(pixels)))
            fail(k, "its GZIP stream does not hold its " + std::to_string(pixels) + " pixels");
        if (t.algorithm == "HCOMPRESS_1" && !hcompress_fits(bytes.data(), n, pixels))
            fail(k, "its HCOMPRESS header does not describe a tile of " + std::to_string(pixels) + " pixels");
    }
}

}  // namespace ccdx::detail
