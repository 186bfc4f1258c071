#pragma once
// Values a command takes from each frame's own header: "@KEY" names the keyword
// (--oscan @BIASSEC, --gain @GAIN); anything else is the value itself.

#include <optional>
#include <string>
#include <string_view>

#include <ccdx/core/detail/text.hpp>
#include <ccdx/core/error.hpp>
#include <ccdx/core/header.hpp>
#include <ccdx/core/quantity.hpp>
#include <ccdx/core/unit.hpp>

namespace ccdx::cli {

// The keyword "@KEY" names, if it is one.
inline std::optional<std::string> header_keyword(const std::string& text)
{
    if (text.size() > 1 && text[0] == '@') return text.substr(1);
    return std::nullopt;
}

// A section given as itself or as @KEY (e.g. @BIASSEC).
inline std::string section_in(const std::string& text, const header& h)
{
    const auto key = header_keyword(text);
    return key ? h.value<std::string>(*key) : text;
}

// The unit a card's comment gives, FITS style: "[electron/adu] gain".
inline std::optional<unit> unit_in_comment(const card& c)
{
    const std::string_view comment = detail::trim(c.comment);
    const auto close = comment.find(']');
    if (comment.empty() || comment[0] != '[' || close == std::string_view::npos) return std::nullopt;
    return unit(std::string(comment.substr(1, close - 1)));
}

// A number given as itself or as @KEY (e.g. @GAIN), in the keyword's own unit where its comment
// gives one, else in `assumed`.
inline quantity quantity_in(const std::string& text, const header& h, const unit& assumed, const char* flag)
{
    if (const auto key = header_keyword(text)) {
        const double v = h.value<double>(*key);
        return quantity(v, unit_in_comment(*h.find(*key)).value_or(assumed));
    }
    const auto v = detail::parse_number<double>(detail::trim(text));
    if (!v) throw value_error(std::string(flag) + " wants a number or @KEYWORD (a header keyword), got '" + text + "'");
    return quantity(*v, assumed);
}

// Fails now, not at the first frame, when a value given as itself is not a number.
inline void check_number(const std::string& text, const char* flag)
{
    if (!text.empty() && !header_keyword(text)) (void)quantity_in(text, header{}, unit(), flag);
}

}  // namespace ccdx::cli
