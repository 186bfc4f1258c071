// Golden ops add, subtract, multiply, divide: CCDData's arithmetic, written with ccdx's operators.
// Inputs are two files, or a file and a plain number (a dimensionless exact scalar).

#include <ccdx/ccdx.hpp>

#include "registry.hpp"

namespace {

template <class Op>
ccdx::image<double> binary(const conformance::golden_case& c, Op op)
{
    const ccdx::image<double> left = c.image(std::size_t{0});
    if (c.input_is_number(1)) return ccdx::eval<double>(op(left, c.input_number(1)));
    const ccdx::image<double> right = c.image(std::size_t{1});
    return ccdx::eval<double>(op(left, right));
}

const conformance::registrar r_add{"add", [](const conformance::golden_case& c) {
    return binary(c, [](const auto& a, const auto& b) { return a + b; });
}};
const conformance::registrar r_subtract{"subtract", [](const conformance::golden_case& c) {
    return binary(c, [](const auto& a, const auto& b) { return a - b; });
}};
const conformance::registrar r_multiply{"multiply", [](const conformance::golden_case& c) {
    return binary(c, [](const auto& a, const auto& b) { return a * b; });
}};
const conformance::registrar r_divide{"divide", [](const conformance::golden_case& c) {
    return binary(c, [](const auto& a, const auto& b) { return a / b; });
}};

}  // namespace
