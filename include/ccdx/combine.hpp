#pragma once
#include "ccdx/stack/combine.hpp"  // moved; this path keeps working
