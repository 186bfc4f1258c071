#pragma once
#include "ccdx/reduce/calibrate.hpp"  // moved; this path keeps working
