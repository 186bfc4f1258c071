#pragma once
// Everything ccdx offers, in one include.

#include "ccdx/error.hpp"
#include "ccdx/evaluate.hpp"
#include "ccdx/expression.hpp"
#include "ccdx/header.hpp"
#include "ccdx/image.hpp"
#include "ccdx/quantity.hpp"
#include "ccdx/section.hpp"
#include "ccdx/unit.hpp"
