#pragma once
#include "ccdx/core/mask.hpp"  // moved; this path keeps working
