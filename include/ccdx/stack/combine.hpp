#pragma once
// combine() in memory (combine_images.hpp) and over FITS files (combine_files.hpp).

#include "ccdx/stack/combine_images.hpp"
#include "ccdx/stack/combine_files.hpp"
