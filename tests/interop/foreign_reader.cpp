// The ccdx side of the foreign-corpus test (tests/interop/foreign_corpus.py): reads one HDU of a
// FITS file that ccdx did not write, and says what happened in a way no outcome can hide.
//
//   foreign_reader <in.fits> <hdu|default> <out.f64>
//
// <hdu> is a 0-based HDU number, read alone (no UNCERT or MASK companion); "default" is the HDU
// read_fits chooses by itself, with its companions. A file without BUNIT is read as
// dimensionless; a BUNIT that ccdx refuses is reported and the pixels are read again with an
// explicit unit, so that they are still compared.
//
// Read:    exit 0, stdout "read ROWS COLS" (after "unit-refused MESSAGE" if BUNIT was refused),
//          the pixels in <out.f64> as float64, row-major, little-endian.
// Refused: exit 3, stdout "refused MESSAGE" (a ccdx::error).
// Anything else (an exception not derived from ccdx::error, a crash, a hang) is the test's failure:
// exit 4 for a std::exception, 5 for anything else thrown, 2 for a wrong command line.

#include <ccdx/io/fits.hpp>

#include <cstdint>
#include <cstring>
#include <fstream>
#include <iostream>
#include <string>

namespace {

// One line per message: a message that runs over lines would break the protocol.
std::string one_line(std::string s)
{
    for (char& c : s)
        if (c == '\n' || c == '\r') c = ' ';
    return s;
}

void write_le(const ccdx::image<double>& img, const std::string& path)
{
    static_assert(sizeof(double) == sizeof(std::uint64_t));
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    for (const double v : img.data()) {
        std::uint64_t bits = 0;
        std::memcpy(&bits, &v, sizeof bits);
        char bytes[8];
        for (int i = 0; i < 8; ++i) bytes[i] = static_cast<char>((bits >> (8 * i)) & 0xffu);
        out.write(bytes, 8);
    }
    if (!out.flush()) throw std::runtime_error("cannot write " + path);
}

}  // namespace

int main(int argc, char** argv)
{
    if (argc != 4) {
        std::cerr << "usage: foreign_reader <in.fits> <hdu|default> <out.f64>\n";
        return 2;
    }
    const std::string path = argv[1], which = argv[2], out = argv[3];
    try {
        ccdx::read_options o;
        if (which != "default") {
            o.hdu = std::stoi(which);
            o.uncertainty_hdu.clear();
            o.mask_hdu.clear();
        }
        if (!ccdx::read_fits_header(path, o).contains("BUNIT")) o.unit = ccdx::unit::dimensionless();
        ccdx::image<double> img;
        try {
            img = ccdx::read_fits<double>(path, o);
        } catch (const ccdx::unit_error& e) {
            if (o.unit) throw;
            std::cout << "unit-refused " << one_line(e.what()) << '\n';
            o.unit = ccdx::unit::dimensionless();
            img = ccdx::read_fits<double>(path, o);
        }
        write_le(img, out);
        std::cout << "read " << img.rows() << ' ' << img.cols() << '\n';
        return 0;
    } catch (const ccdx::error& e) {
        std::cout << "refused " << one_line(e.what()) << '\n';
        return 3;
    } catch (const std::exception& e) {
        std::cout << "exception " << one_line(e.what()) << '\n';
        return 4;
    } catch (...) {
        std::cout << "exception of unknown type\n";
        return 5;
    }
}
