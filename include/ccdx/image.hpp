#pragma once
#include "ccdx/core/image.hpp"  // moved; this path keeps working
