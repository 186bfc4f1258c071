#pragma once
// How a FITS file is read and written: the options of read_fits and write_fits, apart from the
// I/O itself, so that code which only passes them on (combine's options) needs no cfitsio.

#include <optional>
#include <string>
#include <variant>

#include "ccdx/core/unit.hpp"

namespace ccdx {

struct read_options {
    std::optional<ccdx::unit> unit;          // overrides BUNIT
    std::optional<ccdx::unit> unit_if_none;  // for a file without BUNIT; one of the two is needed then
    // HDU number (0 = primary) or EXTNAME. Default: the primary HDU, or the first image HDU with
    // data (tile-compressed ones included) when the primary is empty.
    std::variant<std::monostate, int, std::string> hdu;
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
