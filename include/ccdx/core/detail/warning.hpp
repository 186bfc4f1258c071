#pragma once
// Warnings: to the function the caller gave (a test, a GUI, a log), else to std::clog.

#include <functional>
#include <iostream>
#include <string>

namespace ccdx {

using warning_handler = std::function<void(const std::string& message)>;

namespace detail {

inline void warn(const warning_handler& to, const std::string& message)
{
    if (to)
        to(message);
    else
        std::clog << "ccdx: warning: " << message << '\n';
}

}  // namespace detail
}  // namespace ccdx
