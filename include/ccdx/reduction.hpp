#pragma once
// The reduction toolbox in one include: the calibration steps, create_deviation,
// subtract_overscan, trim_image and ccd_process (all lazy expressions), and the block
// rebinning operations.

#include "ccdx/block.hpp"
#include "ccdx/calibrate.hpp"
#include "ccdx/deviation.hpp"
#include "ccdx/overscan.hpp"
#include "ccdx/process.hpp"
#include "ccdx/trim.hpp"
