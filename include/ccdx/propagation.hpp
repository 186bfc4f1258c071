#pragma once
#include "ccdx/expr/propagation.hpp"  // moved; this path keeps working
