#pragma once
// Everything ccdx offers, in one include, stage by stage as the data flows:
// FITS -> image -> expression -> one pass -> combine -> FITS.

#include "ccdx/core/version.hpp"
#include "ccdx/core/error.hpp"
#include "ccdx/core/header.hpp"
#include "ccdx/core/image.hpp"
#include "ccdx/core/mask.hpp"
#include "ccdx/core/quantity.hpp"
#include "ccdx/core/section.hpp"
#include "ccdx/core/statistics.hpp"
#include "ccdx/core/unit.hpp"

#include "ccdx/expr/evaluate.hpp"
#include "ccdx/expr/expression.hpp"
#include "ccdx/expr/formula.hpp"

#include "ccdx/io/collection.hpp"
#include "ccdx/io/fits.hpp"

#include "ccdx/reduction.hpp"
#include "ccdx/reduce/process_files.hpp"

#include "ccdx/stack/combine.hpp"

#include "ccdx/detect/ccdmask.hpp"
#include "ccdx/detect/cosmicray.hpp"
#include "ccdx/detect/median_filter.hpp"

#include "ccdx/display/preview.hpp"
