#pragma once
// Text helpers every part shares: ASCII case folding (FITS keywords, unit words and file
// suffixes compare without case), trimming of blanks, and numbers read from text.

#include <algorithm>
#include <cctype>
#include <charconv>
#include <optional>
#include <string>
#include <string_view>

namespace ccdx::detail {

inline char lower(char c) { return static_cast<char>(std::tolower(static_cast<unsigned char>(c))); }

inline std::string lowercase(std::string_view s)
{
    std::string out(s);
    for (auto& c : out) c = lower(c);
    return out;
}

inline bool iequals(std::string_view a, std::string_view b)
{
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) { return lower(x) == lower(y); });
}

inline bool iends_with(std::string_view s, std::string_view end)
{
    return s.size() >= end.size() && iequals(s.substr(s.size() - end.size()), end);
}

// Without trailing spaces (the padding of a FITS card).
inline std::string_view rtrim(std::string_view s)
{
    while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
    return s;
}

// Without leading and trailing blanks (spaces and tabs).
inline std::string_view trim(std::string_view s)
{
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}

// Whole-string number parsing (locale-independent); nullopt if the text is not that number.
template <class N>
std::optional<N> parse_number(std::string_view text)
{
    text = trim(text);
    if (text.size() > 1 && text[0] == '+' && text[1] != '-') text.remove_prefix(1);  // from_chars takes no '+'
    N value{};
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (text.empty() || ec != std::errc{} || end != text.data() + text.size()) return std::nullopt;
    return value;
}

}  // namespace ccdx::detail
