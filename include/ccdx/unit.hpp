#pragma once
#include "ccdx/core/unit.hpp"  // moved; this path keeps working
