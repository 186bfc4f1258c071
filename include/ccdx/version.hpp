#pragma once
#include "ccdx/core/version.hpp"  // the version, from its home in core/
