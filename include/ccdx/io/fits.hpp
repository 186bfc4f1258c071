#pragma once
// FITS I/O: an image<T> read from and written to a FITS file the way astropy's CCDData does it
// (data in the primary HDU with BUNIT, standard deviation in extension UNCERT, mask in extension
// MASK), for every image a camera writes: any BITPIX, BZERO/BSCALE, BLANK, gzip/bzip2/compress
// files and tile compression.
//
// Units: BUNIT gives the unit, and an explicit BUNIT = '' (astropy writes it for composite
// dimensionless units such as adu / adu) means dimensionless. A file with no BUNIT at all says
// nothing about its unit, so reading it needs read_options::unit (or unit_if_none), as astropy
// requires; ccdx writes BUNIT = '' for a dimensionless image so that its own files always read back.

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <system_error>
#include <type_traits>
#include <variant>
#include <vector>

#include <xtensor/xmanipulation.hpp>

#if defined(__linux__)
#include <sys/mman.h>
#endif

#include "ccdx/core/detail/pages.hpp"
#include "ccdx/core/error.hpp"
#include "ccdx/core/header.hpp"
#include "ccdx/core/image.hpp"
#include "ccdx/core/section.hpp"
#include "ccdx/core/unit.hpp"
#include "ccdx/io/detail/fits_direct.hpp"
#include "ccdx/io/detail/fits_file.hpp"
#include "ccdx/io/detail/staged_file.hpp"
#include "ccdx/io/fits_options.hpp"

namespace ccdx {

namespace detail {

// The file's name without its folder, FITS suffix and compression suffix: "kelt-16.fit.gz" -> "kelt-16".
inline std::string image_name(const std::filesystem::path& p)
{
    std::filesystem::path name = p.filename();
    for (const char* z : {".gz", ".bz2", ".Z", ".fz"})
        if (name.extension() == z) name = name.stem();
    return name.stem().string();
}

// The image HDU a read_options selects, with the file positioned on it.
struct selected_hdu {
    int number = 1;           // cfitsio's 1-based number
    bool found_by_search = false;  // the primary was empty: its cards are merged as astropy does
    shape2 shape{};
};

inline bool has_data(const std::vector<long long>& axes) { return !axes.empty(); }

inline shape2 image_shape(const fits_handle& f)
{
    const std::vector<long long> n = f.axes();
    const std::string where = "HDU " + std::to_string(f.current_hdu() - 1);
    if (n.empty()) throw_fits(f.path(), where + " has no data (NAXIS = 0)");
    for (long long v : n)
        if (v <= 0) throw_fits(f.path(), where + " has an axis of length " + std::to_string(v));
    // Axes beyond the second must be degenerate: ccdx images are 2-D.
    for (std::size_t i = 2; i < n.size(); ++i) {
        if (n[i] != 1) {
            std::string dims;
            for (std::size_t k = n.size(); k-- > 0;) dims += std::to_string(n[k]) + (k ? " x " : "");
            throw_fits(f.path(), where + " is a " + std::to_string(n.size()) + "-D array (" + dims +
                                     "); ccdx reads 2-D images");
        }
    }
    const auto rows = static_cast<unsigned long long>(n.size() > 1 ? n[1] : 1);
    const auto cols = static_cast<unsigned long long>(n[0]);
    // Checked before anything is allocated: the pixel count must fit in memory arithmetic.
    if (rows > std::numeric_limits<std::size_t>::max() / sizeof(double) / cols)
        throw_fits(f.path(), where + " claims " + std::to_string(rows) + " x " + std::to_string(cols) +
                                 " pixels, more than can be addressed");
    return {static_cast<std::size_t>(rows), static_cast<std::size_t>(cols)};
}

inline selected_hdu select_hdu(const fits_handle& f, const read_options& o)
{
    selected_hdu s;
    if (const int* n = std::get_if<int>(&o.hdu)) {
        const int count = f.hdu_count();
        if (*n < 0 || *n >= count)
            throw_fits(f.path(), "has no HDU " + std::to_string(*n) + " (it has " + std::to_string(count) + ")");
        f.move_to(*n + 1);
    } else if (const std::string* name = std::get_if<std::string>(&o.hdu)) {
        if (!f.move_to_named(*name)) throw_fits(f.path(), "has no image HDU named '" + *name + "'");
    } else if (const extension* e = std::get_if<extension>(&o.hdu)) {
        if (!f.move_to_named(e->name, e->version))
            throw_fits(f.path(), "has no image HDU named '" + e->name + "' with EXTVER " + std::to_string(e->version));
    } else {
        f.move_to(1);
        if (!has_data(f.axes())) {
            const int count = f.hdu_count();
            bool found = false;
            for (int h = 2; h <= count && !found; ++h) {
                f.move_to(h);
                if (!f.is_image() || !has_data(f.axes())) continue;
                const std::string extname = f.string_key("EXTNAME");
                // The uncertainty and mask planes are never the data.
                if ((!o.uncertainty_hdu.empty() && iequals(extname, o.uncertainty_hdu)) ||
                    (!o.mask_hdu.empty() && iequals(extname, o.mask_hdu)))
                    continue;
                found = true;
            }
            if (!found) throw_fits(f.path(), "has no image data (the primary HDU is empty and no image extension has data)");
            s.found_by_search = true;
        }
    }
    if (!f.is_image())
        throw_fits(f.path(), "HDU " + std::to_string(f.current_hdu() - 1) + " is a table, not an image");
    s.number = f.current_hdu();
    s.shape = image_shape(f);
    return s;
}

template <class T>
constexpr int fits_datatype()
{
    return std::is_same_v<T, float> ? TFLOAT : TDOUBLE;
}

// Reads rows [row0, row0 + nrows) x columns [col0, col0 + ncols) of the current image HDU into
// out (row-major), applying BSCALE/BZERO and turning BLANK (and NaN) into NaN.
template <class T>
void read_pixels(const fits_handle& f, shape2 shape, std::size_t row0, std::size_t nrows, std::size_t col0,
                 std::size_t ncols, T* out, const std::string& what)
{
    if (nrows == 0 || ncols == 0) return;
    if (const std::optional<direct_image> d = f.direct()) return read_direct(f.path(), *d, row0, nrows, col0, ncols, out);
    f.check_tiles();
    int anynul = 0, status = 0, bitpix = 0;
    fits_get_img_type(f.get(), &bitpix, &status);
    // BLANK (ZBLANK in quantized tile-compressed floats) marks missing values: they become NaN.
    // Plain float pixels are NaN already, and a null value of 0 spares cfitsio testing each.
    const bool may_hold_blanks = bitpix > 0 || fits_is_compressed_image(f.get(), &status);
    T nan = may_hold_blanks ? std::numeric_limits<T>::quiet_NaN() : T(0);
    const std::vector<long long> axes = f.axes();
    if (col0 == 0 && ncols == shape[1]) {
        std::vector<LONGLONG> first(axes.size(), 1);
        first[0] = 1;
        if (first.size() > 1) first[1] = static_cast<LONGLONG>(row0 + 1);
        fits_read_pixll(f.get(), fits_datatype<T>(), first.data(), static_cast<LONGLONG>(nrows * ncols), &nan, out,
                        &anynul, &status);
    } else {
        std::vector<long> first(axes.size(), 1), last(axes.size(), 1), inc(axes.size(), 1);
        first[0] = static_cast<long>(col0 + 1);
        last[0] = static_cast<long>(col0 + ncols);
        if (axes.size() > 1) {
            first[1] = static_cast<long>(row0 + 1);
            last[1] = static_cast<long>(row0 + nrows);
        }
        fits_read_subset(f.get(), fits_datatype<T>(), first.data(), last.data(), inc.data(), &nan, out, &anynul,
                         &status);
    }
    f.check(status, "cannot read the " + what + " (HDU " + std::to_string(f.current_hdu() - 1) + ")");
}

// Reading one pixel at the far end first finds a truncated file, or NAXISn that promise more
// data than the file holds, before a large buffer is allocated.
template <class T>
void probe_last_pixel(const fits_handle& f, shape2 shape, std::size_t row_end, std::size_t col_end,
                      const std::string& what)
{
    T last{};
    read_pixels<T>(f, shape, row_end - 1, 1, col_end - 1, 1, &last, what);
}

// The plane `what` of the current HDU, read into `spare` when that has the section's shape
// (a buffer already faulted in costs nothing to fill again; a fresh one, its pages' zeroing).
template <class T>
xt::xtensor<T, 2> read_plane(const fits_handle& f, shape2 shape, const section& s, const std::string& what,
                             xt::xtensor<T, 2>&& spare = {})
{
    const std::size_t nrows = s.rows.size(), ncols = s.cols.size();
    if (nrows && ncols) probe_last_pixel<T>(f, shape, s.rows.end, s.cols.end, what);
    // A moved-from plane keeps its shape but not its storage: the storage is what is checked.
    const bool reuse = spare.shape()[0] == nrows && spare.shape()[1] == ncols && spare.storage().size() == nrows * ncols;
    if (!reuse) spare = {};  // freed before its replacement is allocated
    auto plane = reuse ? std::move(spare) : xt::xtensor<T, 2>::from_shape({nrows, ncols});
    if (!reuse) prefer_huge_pages(plane.data(), plane.size() * sizeof(T));
    read_pixels<T>(f, shape, s.rows.begin, nrows, s.cols.begin, ncols, plane.data(), what);
    return plane;
}

// A mask plane of any pixel type: 0 stays 0, bit patterns 1..255 are kept, any other nonzero
// value (negative, larger, fractional, NaN) becomes 1, "bad".
inline xt::xtensor<mask_t, 2> read_mask(const fits_handle& f, shape2 shape, const section& s,
                                         xt::xtensor<mask_t, 2>&& spare = {})
{
    int status = 0, equivalent = 0;
    fits_get_img_equivtype(f.get(), &equivalent, &status);
    f.check(status, "cannot read the mask's pixel type");
    const std::size_t nrows = s.rows.size(), ncols = s.cols.size();
    const bool reuse = spare.shape()[0] == nrows && spare.shape()[1] == ncols && spare.storage().size() == nrows * ncols;
    if (!reuse) spare = {};
    auto mask = reuse ? std::move(spare) : xt::xtensor<mask_t, 2>::from_shape({nrows, ncols});
    if (nrows == 0 || ncols == 0) return mask;
    f.check_tiles();
    if (!reuse) prefer_huge_pages(mask.data(), mask.size());
    probe_last_pixel<double>(f, shape, s.rows.end, s.cols.end, "mask");
    const std::optional<direct_image> d = f.direct();
    if (d && d->coding.bitpix == 8 && d->coding.zero == 0 && d->coding.scale == 1 && !d->coding.blank) {
        read_direct(f.path(), *d, s.rows.begin, nrows, s.cols.begin, ncols, mask.data());
        return mask;
    }
    if (equivalent == BYTE_IMG) {
        // uint8 is what astropy and ccdx write: read straight into the mask.
        mask_t zero = 0;
        int anynul = 0;
        std::vector<long> first{static_cast<long>(s.cols.begin + 1), static_cast<long>(s.rows.begin + 1)};
        std::vector<long> last{static_cast<long>(s.cols.end), static_cast<long>(s.rows.end)};
        std::vector<long> inc{1, 1};
        const std::size_t naxis = f.axes().size();
        first.resize(naxis, 1), last.resize(naxis, 1), inc.resize(naxis, 1);
        fits_read_subset(f.get(), TBYTE, first.data(), last.data(), inc.data(), &zero, mask.data(), &anynul, &status);
        f.check(status, "cannot read the mask");
        return mask;
    }
    // Other types: a few rows at a time through double.
    const std::size_t chunk_rows = std::max<std::size_t>(1, (std::size_t{1} << 16) / ncols);
    std::vector<double> buffer(chunk_rows * ncols);
    for (std::size_t r = 0; r < nrows; r += chunk_rows) {
        const std::size_t n = std::min(chunk_rows, nrows - r);
        read_pixels<double>(f, shape, s.rows.begin + r, n, s.cols.begin, ncols, buffer.data(), "mask");
        mask_t* out = mask.data() + r * ncols;
        for (std::size_t i = 0; i < n * ncols; ++i) {
            const double v = buffer[i];
            out[i] = v == 0 ? 0 : (v >= 1 && v <= 255 && v == std::floor(v)) ? static_cast<mask_t>(v) : 1;
        }
    }
    return mask;
}

// Cards of the primary header that an extension's header lacks, appended as astropy does when
// it takes the data from the first image extension.
inline void merge_primary(header& h, const header& primary)
{
    const header own = h;  // a keyword the primary repeats is taken whole, every card of it
    for (const card& c : primary) {
        if (is_structural(c.keyword)) continue;
        bool present = false;
        if (is_commentary(c.keyword)) {
            for (const card& d : own)
                if (iequals(d.keyword, c.keyword) && d.value == c.value) present = true;
        } else {
            present = own.contains(c.keyword);
        }
        if (!present) h.append(c);
    }
}

inline ccdx::unit unit_of(const fits_handle& f, const header& h, const read_options& o)
{
    if (o.unit) return *o.unit;
    const card* bunit = h.find("BUNIT");
    if (!bunit && o.unit_if_none) return *o.unit_if_none;
    if (!bunit)
        throw unit_error("FITS file " + quoted(f.path()) +
                         " has no BUNIT keyword: give its unit with read_options::unit or unit_if_none");
    const std::string text = std::holds_alternative<std::string>(bunit->value) ? std::get<std::string>(bunit->value)
                                                                                : to_string(bunit->value);
    try {
        return ccdx::unit(text);
    } catch (const unit_error& e) {
        throw unit_error("FITS file " + quoted(f.path()) + ": BUNIT '" + text + "' is not a unit ccdx reads (" +
                         e.what() + "); give the unit with read_options::unit");
    }
}

// Standard deviation from an UNCERT extension, whichever of astropy's three kinds it holds.
template <class T>
void to_standard_deviation(const fits_handle& f, xt::xtensor<T, 2>& u)
{
    const std::string utype = f.string_key("UTYPE");
    if (utype.empty() || utype == "StdDevUncertainty") return;  // astropy's default when UTYPE is absent
    if (utype == "VarianceUncertainty") {
        for (T& v : u) v = std::sqrt(v);
    } else if (utype == "InverseVariance") {
        for (T& v : u) v = T(1) / std::sqrt(v);
    } else {
        throw_fits(f.path(), "extension '" + f.string_key("EXTNAME") + "' has UTYPE = '" + utype +
                                 "'; ccdx reads StdDevUncertainty, VarianceUncertainty and InverseVariance");
    }
}

// The extension named `extname`, checked to have the data's shape; false if there is none.
inline bool move_to_companion(const fits_handle& f, const std::string& extname, shape2 shape)
{
    if (extname.empty() || !f.move_to_named(extname)) return false;
    const shape2 s = image_shape(f);
    if (s != shape)
        throw_fits(f.path(), "extension '" + extname + "' has shape " + to_string(s) +
                                 ", the data has shape " + to_string(shape));
    return true;
}

// An image HDU open for reading: the file, where the image is, its header (with the primary's
// cards when the image was found in an extension, as astropy merges them) and its unit.
struct open_image {
    fits_handle file;
    selected_hdu hdu;
    header cards;
    ccdx::unit unit;
};

inline open_image open_for_reading(const std::filesystem::path& path, const read_options& o)
{
    fits_handle f(path);
    const selected_hdu hdu = select_hdu(f, o);
    f.verify_complete();
    header h = read_header(f);
    if (hdu.found_by_search) {
        f.move_to(1);
        merge_primary(h, read_header(f));
        f.move_to(hdu.number);
    }
    const ccdx::unit u = unit_of(f, h, o);
    return open_image{std::move(f), hdu, std::move(h), u};
}

// The planes of `part` of an open image (no header); the planes of `spare`, when given, are
// taken to read into. The file is left at the image's HDU, ready for the next part.
template <class T>
image<T> read_planes(const open_image& in, const read_options& o, const section& s, image<T>* spare = nullptr)
{
    static_assert(std::is_same_v<T, float> || std::is_same_v<T, double>, "read_fits reads float or double images");
    const fits_handle& f = in.file;
    const shape2 shape = in.hdu.shape;
    if (s.rows.end > shape[0] || s.cols.end > shape[1] || s.rows.begin > s.rows.end || s.cols.begin > s.cols.end)
        throw_fits(f.path(), "section " + to_string(s) + " lies outside the image of shape " + to_string(shape));

    typename image<T>::plane spare_data, spare_sigma;
    xt::xtensor<mask_t, 2> spare_mask;
    if (spare) {
        spare_data = std::move(spare->data());
        if (spare->has_uncertainty()) spare_sigma = std::move(spare->uncertainty());
        if (spare->has_mask()) spare_mask = std::move(spare->mask());
    }
    f.move_to(in.hdu.number);
    image<T> out(read_plane<T>(f, shape, s, "data", std::move(spare_data)), in.unit);
    if (move_to_companion(f, o.uncertainty_hdu, shape)) {
        auto u = read_plane<T>(f, shape, s, "uncertainty", std::move(spare_sigma));
        to_standard_deviation(f, u);
        out.set_uncertainty(std::move(u));
    }
    f.move_to(in.hdu.number);
    if (move_to_companion(f, o.mask_hdu, shape)) out.set_mask(read_mask(f, shape, s, std::move(spare_mask)));
    f.move_to(in.hdu.number);
    // A reversed section reads high to low, as the string ran.
    if (s.rows.reversed || s.cols.reversed) {
        auto flip = [&](auto& plane) {
            if (s.rows.reversed) plane = xt::eval(xt::flip(plane, 0));
            if (s.cols.reversed) plane = xt::eval(xt::flip(plane, 1));
        };
        flip(out.data());
        if (out.has_uncertainty()) flip(out.uncertainty());
        if (out.has_mask()) flip(out.mask());
    }
    return out;
}

// The image at `path`; the planes of `spare`, when given, are taken to read into.
template <class T>
image<T> read_image(const std::filesystem::path& path, const read_options& o, const std::optional<section>& part,
                    image<T>* spare = nullptr)
{
    open_image in = open_for_reading(path, o);
    const shape2 shape = in.hdu.shape;
    image<T> out = read_planes<T>(in, o, part ? *part : section{{0, shape[0]}, {0, shape[1]}}, spare);
    out.header() = std::move(in.cards);
    out.set_name(image_name(path));
    return out;
}

}  // namespace detail

// The image in a FITS file: data, uncertainty (UNCERT), mask (MASK), unit (BUNIT) and header.
template <class T = float>
image<T> read_fits(const std::filesystem::path& path, const read_options& options = {})
{
    return detail::read_image<T>(path, options, std::nullopt);
}

// Reads into an existing image, reusing its buffers when the shapes agree: a loop over frames
// of one size then faults no fresh pages in. On failure `into` holds no useful image.
template <class T>
void read_fits_into(const std::filesystem::path& path, image<T>& into, const read_options& options = {})
{
    into = detail::read_image<T>(path, options, std::nullopt, &into);
}

// Rows [row_begin, row_end) (0-based) of the image, with its uncertainty and mask: what a
// streaming combine reads, a band at a time.
template <class T = float>
image<T> read_fits_rows(const std::filesystem::path& path, std::size_t row_begin, std::size_t row_end,
                        const read_options& options = {})
{
    if (row_begin > row_end)
        throw fits_error("FITS file " + detail::quoted(path) + ": row range [" + std::to_string(row_begin) + ", " +
                         std::to_string(row_end) + ") runs backwards");
    detail::fits_handle probe(path);
    const shape2 shape = detail::select_hdu(probe, options).shape;
    if (row_end > shape[0])
        throw fits_error("FITS file " + detail::quoted(path) + ": rows [" + std::to_string(row_begin) + ", " +
                         std::to_string(row_end) + ") lie outside the image of shape " + to_string(shape));
    return detail::read_image<T>(path, options, section{{row_begin, row_end}, {0, shape[1]}});
}

// A rectangle of the image (e.g. parse_section("[100:200,1:50]", rows, cols)), reading only
// those pixels; a reversed range comes back flipped.
template <class T = float>
image<T> read_fits_section(const std::filesystem::path& path, const section& part, const read_options& options = {})
{
    return detail::read_image<T>(path, options, part);
}

// The header of the image HDU read_fits would read, without reading any pixel.
inline header read_fits_header(const std::filesystem::path& path, const read_options& options = {})
{
    detail::fits_handle f(path);
    const detail::selected_hdu hdu = detail::select_hdu(f, options);
    header h = detail::read_header(f);
    if (hdu.found_by_search) {
        f.move_to(1);
        detail::merge_primary(h, detail::read_header(f));
    }
    return h;
}

// (rows, cols) of the image HDU read_fits would read.
inline shape2 read_fits_shape(const std::filesystem::path& path, const read_options& options = {})
{
    detail::fits_handle f(path);
    return detail::select_hdu(f, options).shape;
}

namespace detail {

// int16 / uint16 output holds integers: refuse NaN and values out of range before any file exists.
template <class T>
void check_integer_range(const xt::xtensor<T, 2>& data, double lo, double hi, const char* type,
                         const std::filesystem::path& path)
{
    const T low = static_cast<T>(lo - 0.5), high = static_cast<T>(hi + 0.5);
    const T* p = data.data();
    const std::size_t n = data.size();
    // A sweep without branches (it vectorises); the first offender is looked for only if there is one.
    unsigned inside = 1;
    for (std::size_t i = 0; i < n; ++i) inside &= static_cast<unsigned>(p[i] >= low) & static_cast<unsigned>(p[i] < high);
    if (inside) return;
    for (std::size_t i = 0; i < n; ++i) {
        if (!(p[i] >= low && p[i] < high)) {
            const std::size_t cols = data.shape()[1];
            throw fits_error("FITS file " + quoted(path) + ": pixel (" + std::to_string(i / cols) + ", " +
                             std::to_string(i % cols) + ") = " + std::to_string(static_cast<double>(p[i])) +
                             " cannot be stored as " + type + " (write float32 instead)");
        }
    }
}

// Creates an image HDU and writes its pixels; without pixels (ccdx writes them itself), a
// 1 x 1 stand-in whose header write_direct completes.
template <class P>
void write_plane(const fits_handle& f, int bitpix, int datatype, const P* pixels, shape2 shape, bool compress,
                 const char* what)
{
    int status = 0;
    if (compress) {
        fits_set_compression_type(f.get(), bitpix < 0 ? GZIP_1 : RICE_1, &status);
        // A quantize level of 0 keeps floats exact (lossless GZIP) instead of quantizing them.
        if (bitpix < 0) fits_set_quantize_level(f.get(), 0.0f, &status);
    }
    long naxes[2] = {pixels ? static_cast<long>(shape[1]) : 1, pixels ? static_cast<long>(shape[0]) : 1};
    fits_create_img(f.get(), bitpix, 2, naxes, &status);
    f.check(status, std::string("cannot create the ") + what + " HDU");
    if (!pixels) return;
    LONGLONG first[2] = {1, 1};
    fits_write_pixll(f.get(), datatype, first, static_cast<LONGLONG>(shape[0] * shape[1]), const_cast<P*>(pixels),
                     &status);
    f.check(status, std::string("cannot write the ") + what);
}

// The cards that close an HDU's header: its checksum, by cfitsio from the pixels it wrote, or
// as placeholders that write_direct fills in once it has written the data.
inline void close_header(const fits_handle& f, bool checksum, bool pixels_written, const char* what)
{
    int status = 0;
    if (checksum && pixels_written) {
        fits_write_chksum(f.get(), &status);
    } else if (checksum) {
        char date[20] = {};
        fits_get_system_time(date, nullptr, &status);
        const std::string hdu = std::string("HDU checksum updated ") + date;
        const std::string data = std::string("data unit checksum updated ") + date;
        fits_write_key_str(f.get(), "CHECKSUM", "0000000000000000", hdu.c_str(), &status);
        fits_write_key_str(f.get(), "DATASUM", "         0", data.c_str(), &status);
    }
    f.check(status, std::string("cannot write the ") + what + " header");
}

// The file's HDUs in astropy's order (PRIMARY, MASK, UNCERT), their pixels written by cfitsio
// when `pixels`, else left to write_direct.
template <class T>
void write_file(const image<T>& img, const fits_handle& f, const write_options& o, bool pixels)
{
    using pt = write_options::pixel_type;
    const int float_bitpix = o.bitpix == pt::float64 ? DOUBLE_IMG : FLOAT_IMG;
    constexpr int datatype = fits_datatype<T>();

    if (o.bitpix == pt::int16 || o.bitpix == pt::uint16) {
        // Rounded here, to nearest, so that compressed and plain files hold the same integers
        // (the range was checked before the file was created).
        auto rounded = [&](auto integer, int bitpix, int datatype) {
            using I = decltype(integer);
            std::vector<I> stored(pixels ? img.size() : 0);
            std::transform(img.data().begin(), img.data().begin() + static_cast<std::ptrdiff_t>(stored.size()),
                           stored.begin(), [](T v) { return static_cast<I>(std::nearbyint(v)); });
            write_plane(f, bitpix, datatype, pixels ? stored.data() : nullptr, img.shape(), o.compress, "data");
        };
        if (o.bitpix == pt::int16) rounded(std::int16_t{}, SHORT_IMG, TSHORT);
        else rounded(std::uint16_t{}, USHORT_IMG, TUSHORT);
    } else {
        write_plane(f, float_bitpix, datatype, pixels ? img.data().data() : nullptr, img.shape(), o.compress, "data");
    }
    for (const card& c : img.header())
        if (!is_structural(c.keyword)) write_card(f, c);
    // astropy spells units the way ccdx prints them; '' marks a dimensionless image explicitly.
    write_card(f, card{"BUNIT", img.unit().to_string(), "physical unit of the data"});
    close_header(f, o.checksum, pixels, "primary");

    if (img.has_mask()) {
        write_plane(f, BYTE_IMG, TBYTE, pixels ? img.mask().data() : nullptr, img.shape(), o.compress, "mask");
        write_card(f, card{"EXTNAME", std::string("MASK"), "extension name"});
        close_header(f, o.checksum, pixels, "MASK");
    }
    if (img.has_uncertainty()) {
        write_plane(f, float_bitpix, datatype, pixels ? img.uncertainty().data() : nullptr, img.shape(), o.compress,
                    "uncertainty");
        write_card(f, card{"EXTNAME", std::string("UNCERT"), "extension name"});
        write_card(f, card{"UTYPE", std::string("StdDevUncertainty"), "class of the uncertainty"});
        close_header(f, o.checksum, pixels, "UNCERT");
    }
}

// The data units write_direct encodes, in write_file's order. Integers are range-checked as
// they are encoded: an offender throws before the file gets its name.
template <class T>
std::vector<direct_plane> direct_planes(const image<T>& img, const write_options& o, const std::filesystem::path& path)
{
    using pt = write_options::pixel_type;
    auto plane = [&](const auto* pixels, auto stored) {
        using S = decltype(stored);
        return direct_plane{img.rows(), img.cols(), sizeof(S),
                            [&img, &path, pixels](std::size_t first, std::size_t count, unsigned char* out) {
                                if (!encode_pixels<S>(pixels + first, count, out)) {
                                    const bool u16 = std::is_same_v<S, std::uint16_t>;
                                    check_integer_range(img.data(), u16 ? 0.0 : -32768.0, u16 ? 65535.0 : 32767.0,
                                                        u16 ? "uint16" : "int16", path);
                                }
                            }};
    };
    const T* data = img.data().data();
    std::vector<direct_plane> planes;
    switch (o.bitpix) {
    case pt::int16: planes.push_back(plane(data, std::int16_t{})); break;
    case pt::uint16: planes.push_back(plane(data, std::uint16_t{})); break;
    case pt::float64: planes.push_back(plane(data, double{})); break;
    case pt::float32: planes.push_back(plane(data, float{})); break;
    }
    if (img.has_mask()) planes.push_back(plane(img.mask().data(), std::uint8_t{}));
    if (img.has_uncertainty()) {
        const T* u = img.uncertainty().data();
        planes.push_back(o.bitpix == pt::float64 ? plane(u, double{}) : plane(u, float{}));
    }
    return planes;
}

// Room for the whole file, so that cfitsio grows its buffer once.
template <class T>
std::size_t expected_fits_size(const image<T>& img, const write_options& o)
{
    auto blocks = [](std::size_t bytes) { return (bytes + 2879) / 2880 * 2880; };
    using pt = write_options::pixel_type;
    const std::size_t pixel = o.bitpix == pt::float64 ? 8 : o.bitpix == pt::float32 ? 4 : 2;
    const std::size_t header = blocks((img.header().size() + 64) * 80);
    std::size_t size = header + blocks(img.size() * pixel);
    if (img.has_mask()) size += 2880 + blocks(img.size());
    if (img.has_uncertainty()) size += 2880 + blocks(img.size() * (o.bitpix == pt::float64 ? 8 : 4));
    return size;
}

}  // namespace detail

// Writes the image as astropy's CCDData does: data with BUNIT and the header's cards, a MASK
// extension (uint8) and an UNCERT extension (UTYPE = 'StdDevUncertainty'). The file is built in
// memory and put in place whole (see ccdx/io/detail/staged_file.hpp): a failure, a full disk or a kill
// never leaves a half-written file, nor replaces a good one; an existing file is replaced only
// with write_options::overwrite.
template <class T>
void write_fits(const image<T>& img, const std::filesystem::path& path, const write_options& options = {})
{
    namespace fs = std::filesystem;
    std::error_code ec;
    if (path.empty()) throw fits_error("FITS file: empty path");
    if (fs::is_directory(path, ec)) detail::throw_fits(path, "is a directory");
    if (!options.overwrite && fs::exists(path, ec))
        detail::throw_fits(path, "already exists (set write_options::overwrite to replace it)");
    const fs::path folder = path.parent_path().empty() ? fs::path(".") : path.parent_path();
    if (!fs::is_directory(folder, ec)) detail::throw_fits(path, "cannot be written: folder " + detail::quoted(folder) + " does not exist");
    if (img.size() == 0) detail::throw_fits(path, "cannot store an empty image");
    // cfitsio builds the file in memory: all of it when it compresses, else the headers only
    // (the data units stay untouched pages) and ccdx encodes the pixels straight to the file.
    const bool direct = !options.compress && detail::direct_io_enabled();
    using pt = write_options::pixel_type;
    if (!direct && options.bitpix == pt::int16) detail::check_integer_range(img.data(), -32768.0, 32767.0, "int16", path);
    if (!direct && options.bitpix == pt::uint16) detail::check_integer_range(img.data(), 0.0, 65535.0, "uint16", path);
    std::size_t size = 2880;
    void* buffer = std::calloc(1, size);
    if (!buffer) detail::throw_fits(path, "cannot be written: out of memory");
    const std::unique_ptr<void*, void (*)(void**)> owner(&buffer, [](void** b) { std::free(*b); });
    std::vector<detail::hdu_address> hdus;
    {
        detail::fits_handle f(path, &buffer, &size, direct ? 0 : detail::expected_fits_size(img, options));
        detail::write_file(img, f, options, !direct);
        const std::size_t length = f.length();
        if (direct) hdus = f.addresses();
        f.close();
        if (length > size) detail::throw_fits(path, "cannot be completed in memory");
        size = length;
    }
    detail::staged_file<fits_error> out(path, "FITS file");
    if (direct)
        detail::write_direct(out, static_cast<unsigned char*>(buffer), hdus, detail::direct_planes(img, options, path),
                             options.checksum, path);
    else
        out.write(buffer, size);
    out.commit(options.overwrite);
}

// An unevaluated expression is refused in plain words: a FITS file holds evaluated pixels.
template <class E, class = std::enable_if_t<is_expression<E>::value>>
void write_fits(const E&, const std::filesystem::path&, const write_options& = {})
{
    static_assert(detail::dependent_false<E>,
                  "write_fits() takes an image, not an unevaluated expression: call eval() first, "
                  "e.g. write_fits(eval(raw - bias), path)");
}

}  // namespace ccdx
