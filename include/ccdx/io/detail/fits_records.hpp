#pragma once
// FITS header records (80-character cards) read into ccdx::card, and the one way messages
// about a FITS file begin: "FITS file 'name': ".

#include <filesystem>
#include <string>
#include <string_view>
#include <utility>

#include "ccdx/core/detail/text.hpp"
#include "ccdx/core/error.hpp"
#include "ccdx/core/header.hpp"

namespace ccdx::detail {

inline std::string quoted(const std::filesystem::path& p) { return "'" + p.string() + "'"; }

[[noreturn]] inline void throw_fits(const std::filesystem::path& p, const std::string& what)
{
    throw fits_error("FITS file " + quoted(p) + ": " + what);
}

// Parses "'it''s' / comment" (the part after "= "): the string, and the rest after the quote.
inline std::pair<std::string, std::string_view> parse_fits_string(std::string_view s)
{
    std::string out;
    std::size_t i = 1;  // past the opening quote
    for (; i < s.size(); ++i) {
        if (s[i] == '\'') {
            if (i + 1 < s.size() && s[i + 1] == '\'') {
                out += '\'';
                ++i;
                continue;
            }
            break;
        }
        out += s[i];
    }
    // Trailing blanks in a FITS string are not significant; leading blanks are.
    out.resize(rtrim(out).size());
    return {out, i < s.size() ? s.substr(i + 1) : std::string_view{}};
}

inline std::string comment_of(std::string_view rest)
{
    const auto slash = rest.find('/');
    if (slash == std::string_view::npos) return "";
    return std::string(trim(rest.substr(slash + 1)));
}

// The typed value of a non-string value field: T/F, integer, real (D exponents too), or empty.
inline card_value parse_fits_value(std::string_view token)
{
    token = trim(token);
    if (token.empty()) return std::monostate{};
    if (token == "T") return true;
    if (token == "F") return false;
    if (token.find_first_not_of("+-0123456789") == std::string_view::npos)
        if (const auto v = parse_number<long long>(token)) return std::int64_t{*v};
    std::string text(token);
    for (char& c : text)
        if (c == 'D' || c == 'd') c = 'E';
    if (const auto d = parse_number<double>(text)) return *d;
    return std::string(token);  // complex values, numbers out of range and oddities: kept as written
}

// Appends every card (duplicates too) of a run of 80-character records (as cfitsio's hdr2str gives them) to h,
// joining long strings continued on CONTINUE cards.
inline void parse_records(std::string_view records, header& h)
{
    const std::size_t n = records.size() / 80;
    for (std::size_t r = 0; r < n; ++r) {
        const std::string_view rec = records.substr(r * 80, 80);
        std::string_view key = rtrim(rec.substr(0, 8));
        std::string_view field;  // what follows the value indicator
        std::string keyword;
        if (rec.substr(0, 9) == "HIERARCH ") {
            const auto eq = rec.find('=');
            if (eq == std::string_view::npos) {
                h.append({"", std::string(rtrim(rec.substr(9))), ""});
                continue;
            }
            keyword = std::string(trim(rec.substr(9, eq - 9)));
            field = rec.substr(eq + 1);
        } else if (key == "END") {
            break;
        } else if (detail::is_commentary(key) || rec.substr(8, 2) != "= ") {
            // COMMENT, HISTORY, blank and other value-less cards keep their text.
            h.append({std::string(key), std::string(rtrim(rec.substr(8))), ""});
            continue;
        } else {
            keyword = std::string(key);
            field = rec.substr(10);
        }
        const std::string_view value = trim(field);
        if (!value.empty() && value.front() == '\'') {
            auto [text, rest] = parse_fits_string(value);
            std::string comment = comment_of(rest);
            // Long-string convention: a value ending in '&' continues on the next CONTINUE card.
            while (!text.empty() && text.back() == '&' && r + 1 < n &&
                   records.substr((r + 1) * 80, 8) == "CONTINUE") {
                const std::string_view next = trim(records.substr((r + 1) * 80 + 8, 72));
                if (next.empty() || next.front() != '\'') break;
                ++r;
                auto [more, more_rest] = parse_fits_string(next);
                text.pop_back();
                text += more;
                if (std::string c = comment_of(more_rest); !c.empty()) comment += (comment.empty() ? "" : " ") + c;
            }
            h.append({std::move(keyword), std::move(text), std::move(comment)});
        } else {
            const auto slash = value.find('/');
            h.append({std::move(keyword), parse_fits_value(value.substr(0, slash)),
                      slash == std::string_view::npos ? std::string() : std::string(trim(value.substr(slash + 1)))});
        }
    }
}

}  // namespace ccdx::detail
