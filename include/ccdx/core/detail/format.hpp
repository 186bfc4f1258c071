#pragma once
// Number text, the one function every part of ccdx prints numbers with (units, quantities,
// headers, formulas, header records): the shortest decimal that reads back to the same value,
// laid out as Python's repr does (fixed for ordinary magnitudes, exponent otherwise) but
// without a trailing ".0": 1.5, 0.3, 90, 1e-05. With `single`, the shortest text of the float
// nearest v: 0.3f prints as 0.3, not 0.30000001192092896.

#include <charconv>
#include <cstdlib>
#include <string>

namespace ccdx::detail {

inline std::string number_text(double x, bool single = false)
{
    char buf[64];
    // Shortest round-trip digits, in scientific form: "d.ddde±XX" (or "inf"/"nan").
    auto [end, ec] = single ? std::to_chars(buf, buf + sizeof buf, static_cast<float>(x), std::chars_format::scientific)
                            : std::to_chars(buf, buf + sizeof buf, x, std::chars_format::scientific);
    std::string sci(buf, ec == std::errc{} ? end : buf);
    const auto e = sci.find('e');
    if (e == std::string::npos) return sci;  // inf, -inf, nan

    const int exponent = std::atoi(sci.c_str() + e + 1);
    std::string sign = sci[0] == '-' ? "-" : "";
    std::string digits;
    for (std::size_t i = sign.size(); i < e; ++i)
        if (sci[i] != '.') digits += sci[i];

    if (exponent < -4 || exponent >= 16) {  // Python's repr switches to exponent form here
        std::string mantissa = digits.substr(0, 1);
        if (digits.size() > 1) mantissa += "." + digits.substr(1);
        std::string exp = std::to_string(exponent < 0 ? -exponent : exponent);
        if (exp.size() < 2) exp = "0" + exp;
        return sign + mantissa + (exponent < 0 ? "e-" : "e+") + exp;
    }
    if (exponent < 0) return sign + "0." + std::string(static_cast<std::size_t>(-exponent - 1), '0') + digits;
    const auto int_digits = static_cast<std::size_t>(exponent) + 1;
    if (digits.size() <= int_digits) return sign + digits + std::string(int_digits - digits.size(), '0');
    return sign + digits.substr(0, int_digits) + "." + digits.substr(int_digits);
}

}  // namespace ccdx::detail
