#pragma once
#include "ccdx/expr/evaluate.hpp"  // moved; this path keeps working
