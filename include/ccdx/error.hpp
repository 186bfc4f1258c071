#pragma once
#include "ccdx/core/error.hpp"  // moved; this path keeps working
