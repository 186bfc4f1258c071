#pragma once
#include "ccdx/core/statistics.hpp"  // moved; this path keeps working
