#pragma once
// The exception hierarchy. Every error ccdx raises derives from ccdx::error, and its
// message names what was involved: the file, keyword, unit, section or shapes.

#include <stdexcept>
#include <string>

namespace ccdx {

struct error : std::runtime_error {
    using std::runtime_error::runtime_error;
};

// Units that cannot be combined or parsed.
struct unit_error : error {
    using error::error;
};

// Operands whose shapes do not match.
struct shape_error : error {
    using error::error;
};

// A FITS file that cannot be read or written; the message names the file.
struct fits_error : error {
    using error::error;
};

// A malformed FITS section string.
struct section_error : error {
    using error::error;
};

// A header keyword that is missing or holds a value of the wrong type.
struct keyword_error : error {
    using error::error;
};

// An argument outside what the operation accepts (a non-positive norm, a zero in a flat, ...).
struct value_error : error {
    using error::error;
};

}  // namespace ccdx
