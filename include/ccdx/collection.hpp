#pragma once
#include "ccdx/io/collection.hpp"  // moved; this path keeps working
