#pragma once
#include "ccdx/reduce/process.hpp"  // moved; this path keeps working
