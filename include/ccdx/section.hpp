#pragma once
#include "ccdx/core/section.hpp"  // moved; this path keeps working
