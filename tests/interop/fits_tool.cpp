// The ccdx side of the astropy interoperability test (tests/interop/check_astropy.py):
//   fits_tool dump  <in.fits> <prefix>            reads with ccdx; writes <prefix>.data / .uncert
//                                                   (float64, row-major) and .mask (uint8) and
//                                                   prints "rows cols unit"
//   fits_tool write <in.fits> <out.fits> [float64|uint16|compress|checksum]...
//                                                   reads with ccdx and writes with those options
// Files without BUNIT are read as dimensionless, as the golden set's README says.

#include <ccdx/io/fits.hpp>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <string>

namespace {

template <class P>
void dump(const P& plane, const std::string& path)
{
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(plane.data()),
              static_cast<std::streamsize>(plane.size() * sizeof(*plane.data())));
}

ccdx::image<double> read(const std::string& path)
{
    ccdx::read_options o;
    if (!ccdx::read_fits_header(path).contains("BUNIT")) o.unit = ccdx::unit::dimensionless();
    return ccdx::read_fits<double>(path, o);
}

}  // namespace

int main(int argc, char** argv)
{
    try {
        if (argc >= 4 && std::strcmp(argv[1], "dump") == 0) {
            const auto img = read(argv[2]);
            const std::string prefix = argv[3];
            dump(img.data(), prefix + ".data");
            if (img.has_uncertainty()) dump(img.uncertainty(), prefix + ".uncert");
            if (img.has_mask()) dump(img.mask(), prefix + ".mask");
            std::cout << img.rows() << ' ' << img.cols() << ' ' << img.unit().to_string() << '\n';
            return 0;
        }
        if (argc >= 4 && std::strcmp(argv[1], "write") == 0) {
            ccdx::write_options o;
            o.overwrite = true;
            for (int i = 4; i < argc; ++i) {
                const std::string opt = argv[i];
                if (opt == "float64") o.bitpix = ccdx::write_options::pixel_type::float64;
                else if (opt == "uint16") o.bitpix = ccdx::write_options::pixel_type::uint16;
                else if (opt == "compress") o.compress = true;
                else if (opt == "checksum") o.checksum = true;
                else throw ccdx::value_error("unknown write option '" + opt + "'");
            }
            ccdx::write_fits(read(argv[2]), argv[3], o);
            return 0;
        }
        std::cerr << "usage: fits_tool dump <in.fits> <prefix> | write <in.fits> <out.fits> [options]\n";
        return 2;
    } catch (const std::exception& e) {
        std::cerr << e.what() << '\n';
        return 1;
    }
}
