#pragma once
#include "ccdx/expr/formula.hpp"  // moved; this path keeps working
