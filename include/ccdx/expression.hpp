#pragma once
#include "ccdx/expr/expression.hpp"  // moved; this path keeps working
