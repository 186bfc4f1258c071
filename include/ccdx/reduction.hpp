#pragma once
// The reduction toolbox in one include: the calibration steps, create_deviation,
// subtract_overscan, trim_image and ccd_process (all lazy expressions), and the block
// rebinning operations.

#include "ccdx/reduce/block.hpp"
#include "ccdx/reduce/calibrate.hpp"
#include "ccdx/reduce/deviation.hpp"
#include "ccdx/reduce/overscan.hpp"
#include "ccdx/reduce/process.hpp"
#include "ccdx/reduce/trim.hpp"
