#pragma once
#include "ccdx/core/quantity.hpp"  // moved; this path keeps working
