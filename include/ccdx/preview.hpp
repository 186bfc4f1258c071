#pragma once
#include "ccdx/display/preview.hpp"  // moved; this path keeps working
