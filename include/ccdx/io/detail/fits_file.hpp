#pragma once
// cfitsio behind a wall: an owning handle whose every failure becomes a ccdx::fits_error that
// names the file, and the translation between FITS header records and ccdx::card.
// Nothing here leaks into ccdx's public interface; each read or write opens its own handle,
// which is what cfitsio's reentrant build needs to be used from several threads.

#include <fitsio.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "ccdx/core/detail/pages.hpp"
#include "ccdx/core/detail/text.hpp"
#include "ccdx/core/error.hpp"
#include "ccdx/core/header.hpp"
#include "ccdx/io/detail/fits_direct.hpp"
#include "ccdx/io/detail/fits_gzip.hpp"
#include "ccdx/io/detail/fits_layout.hpp"
#include "ccdx/io/detail/fits_records.hpp"

// cfitsio's raw byte read, exported but declared only in its internal header (fitsio2.h,
// whose macros must not reach ccdx's users).
extern "C" int ffgbyt(fitsfile* fptr, LONGLONG nbytes, void* buffer, int* status);

namespace ccdx::detail {

// What cfitsio says about a status code, e.g. "tried to move past end of file".
inline std::string fits_status_text(int status)
{
    char text[FLEN_STATUS] = {};
    fits_get_errstatus(status, text);
    return std::string(text) + " (cfitsio status " + std::to_string(status) + ")";
}

// One open cfitsio file. Move-only; closes on destruction.
class fits_handle {
public:
    // A file on disk, opened for reading.
    explicit fits_handle(std::filesystem::path path) : path_(std::move(path))
    {
        int status = 0;
        std::error_code ec;
        if (path_.empty()) throw fits_error("FITS file: empty path");
        if (!std::filesystem::exists(path_, ec)) throw_fits(path_, "no such file");
        if (std::filesystem::is_directory(path_, ec)) throw_fits(path_, "is a directory, not a FITS file");
        // A FIFO or a device would block cfitsio's open, or never end.
        if (!std::filesystem::is_regular_file(path_, ec))
            throw_fits(path_, "is not a regular file (a FIFO, socket or device is not read as FITS)");
        const disk_coding coding = coding_on_disk();
        if (coding.gzip_bytes && direct_io_enabled()) inflated_ = inflate_gzip(path_, coding.gzip_bytes);
        if (inflated_)  // a plain name: cfitsio would read "[...]" in the file's own as an extension
            fits_open_memfile(&file_, "inflated.fits", READONLY, &inflated_->data, &inflated_->size, 0, nullptr, &status);
        else
            // The disk-file entry point takes the name literally: no cfitsio "[ext]" or "!" syntax,
            // yet gzip, bzip2 and compress files are still recognised and decompressed.
            fits_open_diskfile(&file_, path_.c_str(), READONLY, &status);
        if (status) {
            file_ = nullptr;
            throw_fits(path_, "cannot be opened as FITS: " + fits_status_text(status));
        }
        // Before cfitsio moves to any other HDU: its headers are checked by ccdx first.
        try {
            layout_ = scan_layout(path_, file_->Fptr->logfilesize, bytes());
        } catch (...) {
            fits_close_file(std::exchange(file_, nullptr), &status);
            throw;
        }
        tiles_checked_.assign(layout_.hdus.size(), false);
        // Only bytes that are exactly the file its headers describe are read directly.
        const auto bytes_held = inflated_ ? inflated_->size
                                : coding.compressed ? 0
                                                    : static_cast<std::size_t>(std::filesystem::file_size(path_, ec));
        exact_bytes_ = layout_.file_size == static_cast<long long>(bytes_held);
    }
    // A file built in memory, in a buffer from std::calloc of *size bytes, grown to `reserve`
    // bytes at once when it must grow; `name` is what messages call it. The file is length()
    // bytes, once closed. This thread builds one such file at a time.
    fits_handle(std::filesystem::path name, void** buffer, std::size_t* size, std::size_t reserve)
        : path_(std::move(name))
    {
        int status = 0;
        growing() = memory_file{size, *size, *size, reserve};
        fits_create_memfile(&file_, buffer, size, 2880, grow, &status);
        if (status) {
            file_ = nullptr;
            throw_fits(path_, "cannot be built in memory: " + fits_status_text(status));
        }
    }
    fits_handle(const fits_handle&) = delete;
    fits_handle& operator=(const fits_handle&) = delete;
    fits_handle(fits_handle&& o) noexcept
        : file_(std::exchange(o.file_, nullptr)), path_(std::move(o.path_)), layout_(std::move(o.layout_)),
          tiles_checked_(std::move(o.tiles_checked_)), inflated_(std::move(o.inflated_)), exact_bytes_(o.exact_bytes_)
    {
    }
    fits_handle& operator=(fits_handle&&) = delete;
    ~fits_handle()
    {
        if (file_) {
            int status = 0;
            fits_close_file(file_, &status);
        }
    }

    fitsfile* get() const noexcept { return file_; }
    const std::filesystem::path& path() const noexcept { return path_; }

    // Throws fits_error "FITS file 'x': <what>: <cfitsio's reason>" when status is set.
    void check(int status, const std::string& what) const
    {
        if (status) throw_fits(path_, what + ": " + fits_status_text(status));
    }

    // Closes explicitly so that a failure while flushing is reported, not swallowed.
    void close()
    {
        int status = 0;
        fits_close_file(std::exchange(file_, nullptr), &status);
        check(status, "cannot be completed");
    }

    // Where the file's last byte will be once complete: the end of the current (last) HDU.
    std::size_t length() const
    {
        int status = 0;
        LONGLONG header_start = 0, data_start = 0, data_end = 0;
        fits_flush_file(file_, &status);
        fits_get_hduaddrll(file_, &header_start, &data_start, &data_end, &status);
        check(status, "cannot be completed");
        return static_cast<std::size_t>(data_end);
    }

    // Where cfitsio has placed every HDU of the file, flushed first.
    std::vector<hdu_address> addresses() const
    {
        int status = 0;
        fits_flush_file(file_, &status);
        check(status, "cannot be completed");
        std::vector<hdu_address> out;
        for (int h = 1, n = hdu_count(); h <= n; ++h) {
            move_to(h);
            hdu_address a;
            fits_get_hduaddrll(file_, &a.header_start, &a.data_start, &a.data_end, &status);
            check(status, "cannot locate HDU " + std::to_string(h - 1));
            out.push_back(a);
        }
        return out;
    }

    int hdu_count() const
    {
        int n = 0, status = 0;
        fits_get_num_hdus(file_, &n, &status);
        check(status, "cannot count HDUs");
        return n;
    }

    // 1-based HDU number, as cfitsio counts.
    void move_to(int hdu) const
    {
        int status = 0, type = 0;
        fits_movabs_hdu(file_, hdu, &type, &status);
        check(status, "cannot read HDU " + std::to_string(hdu - 1));
    }
    int current_hdu() const
    {
        int n = 0;
        fits_get_hdu_num(file_, &n);
        return n;
    }
    // Moves to the image HDU with this EXTNAME; false (and stays put) when there is none.
    // To the image HDU of that EXTNAME (and EXTVER, unless 0).
    bool move_to_named(const std::string& extname, int extver = 0) const
    {
        const int here = current_hdu();
        int status = 0;
        fits_movnam_hdu(file_, IMAGE_HDU, const_cast<char*>(extname.c_str()), extver, &status);
        if (status == BAD_HDU_NUM) {
            move_to(here);
            return false;
        }
        check(status, "cannot look for HDU '" + extname + "'");
        return true;
    }
    bool is_image() const
    {
        int type = 0, status = 0;
        fits_get_hdu_type(file_, &type, &status);
        check(status, "cannot read the HDU type");
        return type == IMAGE_HDU;  // tile-compressed images count: cfitsio presents them as images
    }
    // NAXISn of the current image HDU, NAXIS1 first (empty for NAXIS = 0).
    std::vector<long long> axes() const
    {
        int status = 0, naxis = 0;
        fits_get_img_dim(file_, &naxis, &status);
        check(status, "cannot read NAXIS of HDU " + std::to_string(current_hdu() - 1));
        std::vector<long long> n(static_cast<std::size_t>(std::max(naxis, 0)));
        if (naxis > 0) fits_get_img_sizell(file_, naxis, n.data(), &status);
        check(status, "cannot read the NAXISn of HDU " + std::to_string(current_hdu() - 1));
        return n;
    }
    // Checks that the file holds all the bytes its headers promise and nothing beyond them: a
    // file cut short, even inside an extension that is not read (an UNCERT or MASK whose header
    // is half there), is an error rather than a silently missing plane.
    void verify_complete() const
    {
        const auto& hdus = layout_.hdus;
        const std::string last = std::to_string(hdus.size() - 1);
        if (layout_.header_cut_short)
            throw_fits(path_, "is truncated: the header of HDU " + std::to_string(hdus.size()) + " has no END");
        // The last block's padding too: a file that ends inside it was cut short (cfitsio reads
        // whole blocks, and the HDUs that followed are gone).
        const long long end =
            hdus.empty() ? 0 : hdus.back().data_start + (hdus.back().data_bytes + fits_block - 1) / fits_block * fits_block;
        if (end > layout_.file_size)
            throw_fits(path_, "is truncated: HDU " + last + " needs " + std::to_string(end) + " bytes, the file has " +
                                  std::to_string(layout_.file_size));
        if (layout_.trailing_bytes)
            throw_fits(path_, "ends with " + std::to_string(layout_.trailing_bytes) +
                                  " bytes that do not form a complete HDU (truncated extension?)");
    }

    // Before the first pixel of a tile-compressed HDU is decoded: every tile checked, once.
    void check_tiles() const
    {
        const std::size_t i = static_cast<std::size_t>(current_hdu() - 1);
        int status = 0;
        const bool compressed = fits_is_compressed_image(file_, &status) != 0;
        if (!compressed) return;
        // The tiles checked must be the ones cfitsio decodes: both must see this HDU in one place.
        LONGLONG header_start = 0, data_start = 0, data_end = 0;
        fits_get_hduaddrll(file_, &header_start, &data_start, &data_end, &status);
        check(status, "cannot locate HDU " + std::to_string(i));
        if (i >= layout_.hdus.size() || !layout_.hdus[i].tiles || layout_.hdus[i].header_start != header_start ||
            layout_.hdus[i].data_start != data_start)
            throw_fits(path_, "HDU " + std::to_string(i) +
                                  ": its headers do not say where its tiles are, unambiguously (damaged file?)");
        if (tiles_checked_[i]) return;
        detail::check_tiles(path_, static_cast<int>(i), *layout_.hdus[i].tiles, bytes());
        tiles_checked_[i] = true;
    }

    // The current HDU where ccdx moves its pixels itself (ccdx/io/detail/fits_direct.hpp): an
    // uncompressed image, placed where cfitsio places it, in a file on disk or one that libdeflate
    // inflated (decoded from memory then). Otherwise cfitsio does the work.
    std::optional<direct_image> direct() const
    {
        const std::size_t i = static_cast<std::size_t>(current_hdu() - 1);
        if (!exact_bytes_ || !direct_io_enabled() || i >= layout_.hdus.size() || !layout_.hdus[i].image) return std::nullopt;
        const pixel_coding& c = *layout_.hdus[i].image;
        if (c.bitpix == 64 && c.zero == 9223372036854775808.0) return std::nullopt;  // unsigned 64-bit: cfitsio's exact case
        int status = 0;
        LONGLONG header_start = 0, data_start = 0, data_end = 0;
        fits_get_hduaddrll(file_, &header_start, &data_start, &data_end, &status);
        if (status || data_start != layout_.hdus[i].data_start) return std::nullopt;
        const std::vector<long long> n = axes();
        if (n.empty()) return std::nullopt;
        direct_image d;
        d.data_start = data_start;
        d.cols = static_cast<std::size_t>(n[0]);
        d.rows = n.size() > 1 ? static_cast<std::size_t>(n[1]) : 1;
        d.coding = c;
        if (inflated_) d.memory = static_cast<const unsigned char*>(inflated_->data);
        return d;
    }

    // A string keyword of the current HDU, or "" when absent.
    std::string string_key(const char* key) const
    {
        char value[FLEN_VALUE] = {};
        int status = 0;
        fits_read_key(file_, TSTRING, key, value, nullptr, &status);
        if (status == KEY_NO_EXIST || status == VALUE_UNDEFINED) return "";
        check(status, std::string("cannot read keyword ") + key);
        return value;
    }

private:
    // How this thread's memory file grows. cfitsio resizes it to the exact length at every step
    // (each header block, each data unit), so the buffer is allocated once at the expected size
    // and only grows by doubling. cfitsio reads the bytes up to the size it asked for as
    // content (e.g. while compressing), so they must read as zeros, as a new file's would: calloc
    // gives fresh pages, and bytes already exposed once are cleared again when exposed anew.
    struct memory_file {
        std::size_t* size = nullptr;  // cfitsio's idea of the buffer's size
        std::size_t capacity = 0, exposed = 0, reserve = 0;
    };
    static memory_file& growing() noexcept
    {
        thread_local memory_file m;
        return m;
    }
    static void* grow(void* p, std::size_t n) noexcept
    {
        memory_file& m = growing();
        const std::size_t old_size = p ? *m.size : 0;
        if (p && n <= m.capacity) {
            if (n > old_size && old_size < m.exposed)
                std::memset(static_cast<char*>(p) + old_size, 0, std::min(n, m.exposed) - old_size);
            m.exposed = std::max(m.exposed, n);
            return p;
        }
        const std::size_t capacity = std::max({n, 2 * m.capacity, m.reserve});
        void* q = std::calloc(1, capacity);
        if (!q) return nullptr;
        prefer_huge_pages(q, capacity);
        if (p) std::memcpy(q, p, std::min(old_size, n));
        std::free(p);
        m.capacity = capacity;
        m.exposed = n;
        return q;
    }

    // Whether the bytes on disk are not the FITS file itself (gzip, bzip2, compress), and the
    // uncompressed size a gzip file's trailer claims. cfitsio allocates that size before
    // reading (and 4 GiB when it says 0). Deflate cannot shrink data more than 1032 times and a
    // FITS file has at least 2880 bytes: claims outside that are damage, refused before they
    // become multi-gigabyte allocations.
    struct disk_coding {
        bool compressed = false;
        std::size_t gzip_bytes = 0;
    };
    disk_coding coding_on_disk() const
    {
        std::ifstream in(path_, std::ios::binary);
        char start[9] = {};
        in.read(start, sizeof start);
        if (in && std::memcmp(start, "SIMPLE  =", sizeof start) == 0) return {};
        const auto* magic = reinterpret_cast<const unsigned char*>(start);
        if (in.gcount() < 2 || magic[0] != 0x1f || magic[1] != 0x8b) return {true, 0};
        in.clear();
        in.seekg(-4, std::ios::end);
        const auto compressed = static_cast<unsigned long long>(in.tellg()) + 4;
        unsigned char tail[4] = {};
        if (!in.read(reinterpret_cast<char*>(tail), 4)) throw_fits(path_, "is a truncated gzip file");
        const unsigned long long claimed = tail[0] | (tail[1] << 8) | (tail[2] << 16) | (0ULL + tail[3]) << 24;
        if (claimed < 2880 || claimed > 1032 * compressed + 65536)
            throw_fits(path_, "is a gzip file whose trailer claims " + std::to_string(claimed) +
                                  " uncompressed bytes, impossible for a FITS file of " +
                                  std::to_string(compressed) + " compressed bytes (damaged file?)");
        return {true, static_cast<std::size_t>(claimed)};
    }

    // The file's bytes as cfitsio holds them (decompressed, for .gz, .bz2 and .Z files).
    read_bytes bytes() const
    {
        return [this](long long offset, void* out, std::size_t n) {
            int status = 0;
            ffmbyt(file_, offset, 0 /* report EOF */, &status);
            ffgbyt(file_, static_cast<LONGLONG>(n), out, &status);
            check(status, "cannot read " + std::to_string(n) + " bytes at offset " + std::to_string(offset));
        };
    }

    fitsfile* file_ = nullptr;
    std::filesystem::path path_;
    fits_layout layout_;
    mutable std::vector<bool> tiles_checked_;
    std::unique_ptr<inflated_file> inflated_;  // a gzip file's bytes, when libdeflate inflated them
    bool exact_bytes_ = false;  // the bytes ccdx can read (on disk, or inflated) are exactly the file
};

// A tile-compressed image is stored as a table whose header carries the image's own keywords
// as ZBITPIX, ZNAXISn, ...: this turns it back into the image's header, as astropy shows it.
inline header image_header_of_compressed(const header& table)
{
    static const std::pair<const char*, const char*> renamed[] = {
        {"ZSIMPLE", "SIMPLE"}, {"ZTENSION", "XTENSION"}, {"ZBITPIX", "BITPIX"}, {"ZNAXIS", "NAXIS"},
        {"ZPCOUNT", "PCOUNT"}, {"ZGCOUNT", "GCOUNT"},     {"ZEXTEND", "EXTEND"}};
    static const char* const table_only[] = {"XTENSION", "BITPIX", "NAXIS", "PCOUNT", "GCOUNT", "TFIELDS",
                                             "ZIMAGE", "ZCMPTYPE", "ZQUANTIZ", "ZDITHER0", "ZHECKSUM",
                                             "ZDATASUM", "ZBLOCKED", "ZBLANK", "ZSCALE", "ZZERO"};
    auto indexed = [](std::string_view key, std::string_view prefix) {
        return key.size() > prefix.size() && iequals(key.substr(0, prefix.size()), prefix) &&
               key.find_first_not_of("0123456789", prefix.size()) == std::string_view::npos;
    };
    header h;
    for (const card& c : table) {
        std::string key = c.keyword;
        bool drop = false;
        for (const char* t : table_only) drop = drop || iequals(key, t);
        for (std::string_view p : {"NAXIS", "TTYPE", "TFORM", "TUNIT", "TDIM", "ZTILE", "ZNAME", "ZVAL"})
            drop = drop || indexed(key, p);
        if (drop) continue;
        for (const auto& [from, to] : renamed)
            if (iequals(key, from)) key = to;
        if (indexed(key, "ZNAXIS")) key = key.substr(1);
        h.append({std::move(key), c.value, c.comment});
    }
    return h;
}

// The header of the current HDU (of the image it holds, for a tile-compressed HDU).
inline header read_header(const fits_handle& f)
{
    char* text = nullptr;
    int nkeys = 0, status = 0;
    fits_hdr2str(f.get(), 0, nullptr, 0, &text, &nkeys, &status);
    // cfitsio allocated the text: freed on every path out of here.
    struct release {
        char* p;
        ~release()
        {
            int ignored = 0;
            if (p) fits_free_memory(p, &ignored);
        }
    } owner{text};
    f.check(status, "cannot read the header of HDU " + std::to_string(f.current_hdu() - 1));
    header h;
    parse_records(std::string_view(text, static_cast<std::size_t>(nkeys) * 80), h);
    const bool compressed = fits_is_compressed_image(f.get(), &status) != 0;
    return compressed ? image_header_of_compressed(h) : h;
}

// Keywords that describe the file's layout rather than the image: cfitsio writes its own.
inline bool is_structural(std::string_view key)
{
    static const char* const exact[] = {"SIMPLE", "XTENSION", "BITPIX", "NAXIS", "EXTEND", "PCOUNT", "GCOUNT",
                                        "BZERO", "BSCALE", "BLANK", "CHECKSUM", "DATASUM", "EXTNAME", "END",
                                        "TFIELDS", "ZIMAGE", "ZBITPIX", "ZNAXIS", "ZCMPTYPE", "ZQUANTIZ",
                                        "ZDITHER0", "ZSIMPLE", "ZEXTEND", "ZTENSION", "ZPCOUNT", "ZGCOUNT",
                                        "ZHECKSUM", "ZDATASUM", "ZBLOCKED", "ZBLANK", "ZSCALE", "ZZERO",
                                        "CONTINUE", "BUNIT", "UTYPE"};
    for (const char* k : exact)
        if (iequals(key, k)) return true;
    // Indexed forms: NAXISn, ZNAXISn, ZTILEn, ZNAMEn, ZVALn, TTYPEn, TFORMn.
    for (std::string_view prefix : {"NAXIS", "ZNAXIS", "ZTILE", "ZNAME", "ZVAL", "TTYPE", "TFORM"}) {
        if (key.size() > prefix.size() && iequals(key.substr(0, prefix.size()), prefix) &&
            key.find_first_not_of("0123456789", prefix.size()) == std::string_view::npos)
            return true;
    }
    return false;
}

// The significant digits of the shortest decimal that reads back as exactly d (FITS cards hold
// decimal text, which cfitsio writes with this precision).
inline int round_trip_digits(double d)
{
    char buf[64];
    const auto [end, ec] = std::to_chars(buf, buf + sizeof buf, d, std::chars_format::scientific);
    int digits = 0;
    for (const char* p = buf; ec == std::errc{} && p < end && *p != 'e'; ++p) digits += *p >= '0' && *p <= '9';
    return digits > 0 ? digits : 17;
}

// Writes one card to the current HDU with cfitsio, which adds HIERARCH for long or spaced
// keywords and CONTINUE cards for long strings.
inline void write_card(const fits_handle& f, const card& c)
{
    fitsfile* fp = f.get();
    int status = 0;
    char* key = const_cast<char*>(c.keyword.c_str());
    char* comment = c.comment.empty() ? nullptr : const_cast<char*>(c.comment.c_str());
    if (iequals(c.keyword, "COMMENT") || iequals(c.keyword, "HISTORY") || c.keyword.empty()) {
        const std::string text = std::holds_alternative<std::string>(c.value) ? std::get<std::string>(c.value)
                                                                              : to_string(c.value);
        if (iequals(c.keyword, "COMMENT")) fits_write_comment(fp, text.c_str(), &status);
        else if (iequals(c.keyword, "HISTORY")) fits_write_history(fp, text.c_str(), &status);
        else {
            // Blank-keyword cards: 72 characters of text each.
            std::size_t at = 0;
            do {
                const std::string record = std::string(8, ' ') + text.substr(at, 72);
                fits_write_record(fp, record.c_str(), &status);
                at += 72;
            } while (at < text.size() && !status);
        }
    } else if (std::holds_alternative<std::monostate>(c.value)) {
        fits_write_key_null(fp, key, comment, &status);
    } else if (const bool* b = std::get_if<bool>(&c.value)) {
        fits_write_key_log(fp, key, *b ? 1 : 0, comment, &status);
    } else if (const std::int64_t* i = std::get_if<std::int64_t>(&c.value)) {
        LONGLONG v = *i;
        fits_write_key(fp, TLONGLONG, key, &v, comment, &status);
    } else if (const double* d = std::get_if<double>(&c.value)) {
        if (!std::isfinite(*d)) throw_fits(f.path(), "keyword '" + c.keyword + "' holds " + to_string(c.value) +
                                                         ", which a FITS header cannot store");
        fits_write_key_dbl(fp, key, *d, -round_trip_digits(*d), comment, &status);
    } else {
        const std::string& s = std::get<std::string>(c.value);
        if (s.size() <= 68) fits_write_key_str(fp, key, s.c_str(), comment, &status);
        else fits_write_key_longstr(fp, key, s.c_str(), comment, &status);
    }
    f.check(status, "cannot write keyword '" + c.keyword + "'");
}

}  // namespace ccdx::detail
