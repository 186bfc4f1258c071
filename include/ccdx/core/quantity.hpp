#pragma once
// A number with a unit: a gain of 1.5 electron / adu, an exposure of 90 s.

#include <ostream>
#include <string>
#include <utility>

#include "ccdx/core/detail/format.hpp"
#include "ccdx/core/unit.hpp"

namespace ccdx {

struct quantity {
    double value = 0.0;
    ccdx::unit unit;

    quantity(double v, ccdx::unit u = {}) : value(v), unit(std::move(u)) {}

    // The same amount in another unit: quantity(2, unit("min")).to(unit("s")) is 120 s.
    quantity to(const ccdx::unit& target) const { return {value * unit.to(target), target}; }
};

inline quantity operator*(const quantity& a, const quantity& b) { return {a.value * b.value, a.unit * b.unit}; }
inline quantity operator/(const quantity& a, const quantity& b) { return {a.value / b.value, a.unit / b.unit}; }
inline quantity operator*(const quantity& q, double k) { return {q.value * k, q.unit}; }
inline quantity operator*(double k, const quantity& q) { return {k * q.value, q.unit}; }
inline quantity operator/(const quantity& q, double k) { return {q.value / k, q.unit}; }
inline quantity operator/(double k, const quantity& q) { return {k / q.value, unit() / q.unit}; }

// "1.5 electron / adu"; a dimensionless quantity prints its number alone.
inline std::string to_string(const quantity& q)
{
    const std::string u = q.unit.to_string();
    return detail::number_text(q.value) + (u.empty() ? "" : " " + u);
}

inline std::ostream& operator<<(std::ostream& os, const quantity& q) { return os << to_string(q); }

}  // namespace ccdx
