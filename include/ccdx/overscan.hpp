#pragma once
#include "ccdx/reduce/overscan.hpp"  // moved; this path keeps working
