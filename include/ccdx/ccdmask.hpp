#pragma once
#include "ccdx/detect/ccdmask.hpp"  // moved; this path keeps working
