#pragma once
#include "ccdx/reduce/trim.hpp"  // moved; this path keeps working
