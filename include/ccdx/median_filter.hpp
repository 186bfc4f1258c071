#pragma once
#include "ccdx/detect/median_filter.hpp"  // moved; this path keeps working
