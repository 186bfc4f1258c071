// libFuzzer target for the FITS reader: any bytes given as a file must either read or throw a
// ccdx::error; a crash, a hang, a sanitizer report or another exception type is a bug.
// Built with -DCCDX_FUZZ=ON and clang (tests/fuzz.cmake).

#include <ccdx/io/fits.hpp>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include <unistd.h>

namespace {

const std::filesystem::path& scratch()
{
    static const std::filesystem::path p =
        std::filesystem::temp_directory_path() / ("ccdx-fuzz-fits-" + std::to_string(::getpid()) + ".fits");
    return p;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    {
        std::ofstream out(scratch(), std::ios::binary | std::ios::trunc);
        out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
    }
    ccdx::read_options options;
    options.unit = ccdx::unit("adu");
    try {
        (void)ccdx::read_fits_header(scratch(), options);
        const auto img = ccdx::read_fits<float>(scratch(), options);
        if (img.rows() > 2) (void)ccdx::read_fits_rows<double>(scratch(), 1, 2, options);
    } catch (const ccdx::error&) {
        // Refusing bad input with a ccdx error is the expected outcome.
    }
    return 0;
}
