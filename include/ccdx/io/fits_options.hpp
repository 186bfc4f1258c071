#pragma once
// How a FITS file is read and written: the options of read_fits and write_fits, apart from the
// I/O itself.

#include <optional>
#include <string>
#include <variant>

#include "ccdx/core/unit.hpp"

namespace ccdx {

// An extension by EXTNAME and EXTVER, as cfitsio's file.fits[SCI,2] names it; version 0 is any.
struct extension {
    std::string name;
    int version = 0;
};

inline bool operator==(const extension& a, const extension& b) { return a.name == b.name && a.version == b.version; }
inline bool operator!=(const extension& a, const extension& b) { return !(a == b); }

// Which HDU holds the image: nothing (the default below), a number (0 = primary), an EXTNAME,
// or an EXTNAME with its EXTVER.
using hdu_choice = std::variant<std::monostate, int, std::string, extension>;

struct read_options {
    std::optional<ccdx::unit> unit;          // overrides BUNIT
    std::optional<ccdx::unit> unit_if_none;  // for a file without BUNIT; one of the two is needed then
    // Default: the primary HDU, or the first image HDU with data (tile-compressed ones included)
    // when the primary is empty.
    hdu_choice hdu;
    std::string uncertainty_hdu = "UNCERT";  // "" = don't read
    std::string mask_hdu = "MASK";           // "" = don't read
};

struct write_options {
    bool overwrite = false;
    // int16 and uint16 (BZERO = 32768) store values rounded to integers; NaN or a value outside
    // the type's range is an error. The uncertainty is stored as float32 unless float64 is chosen.
    enum class pixel_type { float32, float64, int16, uint16 } bitpix = pixel_type::float32;
    bool compress = false;  // tile compression: RICE for integers, lossless GZIP for floats
    bool checksum = false;  // CHECKSUM and DATASUM in every HDU
};

}  // namespace ccdx
