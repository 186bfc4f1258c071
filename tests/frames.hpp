#pragma once
// Small frames the unit tests build by hand, named so that formulas print readably.

#include <cstddef>

#include <ccdx/core/image.hpp>

namespace fixtures {

// 0, 1, 2, ... in row-major order, as numpy's arange(rows * cols).reshape(rows, cols).
inline ccdx::image<double> arange(std::size_t rows, std::size_t cols, const char* name = "raw")
{
    ccdx::image<double> img(rows, cols, ccdx::unit("adu"));
    for (std::size_t i = 0; i < img.size(); ++i) img.data().data()[i] = double(i);
    img.set_name(name);
    return img;
}

inline ccdx::image<double> filled(std::size_t rows, std::size_t cols, double value, const char* unit, const char* name)
{
    ccdx::image<double> img(rows, cols, ccdx::unit(unit));
    img.data().fill(value);
    img.set_name(name);
    return img;
}

}  // namespace fixtures
