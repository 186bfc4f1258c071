#pragma once
#include "ccdx/core/header.hpp"  // moved; this path keeps working
