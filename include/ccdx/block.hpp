#pragma once
#include "ccdx/reduce/block.hpp"  // moved; this path keeps working
