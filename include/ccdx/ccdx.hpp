#pragma once
// Everything ccdx offers, in one include.

#include "ccdx/error.hpp"
#include "ccdx/header.hpp"
#include "ccdx/image.hpp"
#include "ccdx/quantity.hpp"
#include "ccdx/section.hpp"
#include "ccdx/unit.hpp"

#include "ccdx/evaluate.hpp"
#include "ccdx/expression.hpp"
#include "ccdx/mask.hpp"

#include "ccdx/fits.hpp"
#include "ccdx/statistics.hpp"

#include "ccdx/reduction.hpp"

#include "ccdx/ccdmask.hpp"
#include "ccdx/combine.hpp"
#include "ccdx/cosmicray.hpp"
#include "ccdx/median_filter.hpp"

#include "ccdx/collection.hpp"
#include "ccdx/formula.hpp"
#include "ccdx/preview.hpp"
