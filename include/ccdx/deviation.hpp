#pragma once
#include "ccdx/reduce/deviation.hpp"  // moved; this path keeps working
