#pragma once
#include "ccdx/detect/cosmicray.hpp"  // moved; this path keeps working
