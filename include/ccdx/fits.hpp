#pragma once
#include "ccdx/io/fits.hpp"  // moved; this path keeps working
