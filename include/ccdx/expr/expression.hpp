#pragma once
// The lazy expression tree. `(raw - bias - dark * 0.3f) / flat` builds a tree of small nodes;
// nothing is computed until it is assigned to an image or passed to eval(). Every node knows
// when it is built its shape, unit, and whether anything below it carries uncertainty or a
// mask; evaluation asks it for one batch of pixels at (row, column) and gets the values,
// variances and mask bits together (part<B>). The protocol is in node.hpp.

#include "ccdx/expr/node.hpp"
#include "ccdx/expr/leaves.hpp"
#include "ccdx/expr/arithmetic.hpp"
#include "ccdx/expr/conditions.hpp"
#include "ccdx/expr/edits.hpp"
#include "ccdx/expr/operators.hpp"
#include "ccdx/expr/evaluate.hpp"
