#pragma once
// Physical units of CCD data: adu, electron, photon, count, seconds and their products and
// powers, parsed from and printed as FITS BUNIT strings the way astropy spells them.
//
// A unit keeps the named factors it was written with ("min / s" stays "min / s", as in
// astropy), and compares by what they reduce to: base names with integer powers and a scale
// (min = 60 s). Names ccdx does not know are kept as opaque bases ("Jy", "DN").

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstddef>
#include <map>
#include <ostream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "ccdx/core/detail/text.hpp"
#include "ccdx/core/error.hpp"

namespace ccdx {

namespace detail {

// Powers beyond this are certainly a mistake; the bound also keeps every sum and product of
// powers far from integer overflow.
inline constexpr long long max_unit_power = 1000;

using unit_factors = std::vector<std::pair<std::string, long long>>;

// The name astropy prints for a word found in a BUNIT string ("" for dimensionless).
// Spelled-out words are matched in any case (FITS headers often say "ADU" or "ELECTRONS");
// symbols are case-sensitive because "S", "H" or "D" would be other units.
inline std::string canonical_unit_name(std::string_view word)
{
    static const std::pair<const char*, const char*> words[] = {
        {"adu", "adu"},       {"electron", "electron"}, {"electrons", "electron"}, {"photon", "ph"},
        {"photons", "ph"},    {"count", "ct"},          {"counts", "ct"},          {"second", "s"},
        {"seconds", "s"},     {"sec", "s"},             {"dimensionless", ""}};
    for (const auto& [alias, name] : words)
        if (iequals(word, alias)) return name;
    return std::string(word);
}

// What a named unit reduces to: (base, scale). Time units reduce to seconds.
inline std::pair<std::string_view, double> unit_definition(std::string_view name)
{
    if (name == "min") return {"s", 60.0};
    if (name == "h") return {"s", 3600.0};
    if (name == "d") return {"s", 86400.0};
    if (name == "ms") return {"s", 1e-3};
    if (name == "us") return {"s", 1e-6};
    return {name, 1.0};
}

// Recursive-descent parser for the FITS/astropy generic unit syntax:
//   unit   := [term] ('/' term)*          everything after a '/' divides ("a / b c" = a/(b c))
//   term   := factor (('*' | '.' | spaces) factor)*
//   factor := (name | '(' unit ')' | '1') [power]
//   power  := ('**' | '^') int | signed digits right after the name ("s-1", "adu2") | '(' int ')'
class unit_parser {
public:
    explicit unit_parser(std::string_view text) : text_(text) {}

    unit_factors parse()
    {
        unit_factors out;
        skip_spaces();
        if (at_end()) return out;
        out = expression(0);
        skip_spaces();
        if (!at_end()) fail(std::string("unexpected '") + peek() + "'");
        return out;
    }

private:
    static constexpr int max_depth = 16;  // parentheses deeper than this are garbage, not units

    unit_factors expression(int depth)
    {
        unit_factors out;
        skip_spaces();
        if (peek() != '/') term(out, +1, depth);
        for (skip_spaces(); peek() == '/'; skip_spaces()) {
            ++pos_;
            skip_spaces();
            term(out, -1, depth);
        }
        return out;
    }

    void term(unit_factors& out, long long sign, int depth)
    {
        factor(out, sign, depth);
        for (;;) {
            const std::size_t before = pos_;
            skip_spaces();
            const bool spaced = pos_ != before;
            const char c = peek();
            if (at_end() || c == '/' || c == ')') return;
            if ((c == '*' && peek(1) != '*') || c == '.') {
                ++pos_;
                skip_spaces();
            } else if (!(spaced && (is_letter(c) || is_digit(c) || c == '('))) {
                fail(std::string("unexpected '") + c + "'");
            }
            factor(out, sign, depth);
        }
    }

    void factor(unit_factors& out, long long sign, int depth)
    {
        const char c = peek();
        if (c == '(') {
            if (depth >= max_depth) fail("parentheses nested too deeply");
            ++pos_;
            unit_factors inner = expression(depth + 1);
            skip_spaces();
            if (peek() != ')') fail("expected ')'");
            ++pos_;
            if (inner.empty()) fail("empty parentheses");
            const long long p = power() * sign;
            for (auto& [name, q] : inner) out.emplace_back(std::move(name), checked(q * p));
        } else if (is_letter(c)) {
            const std::size_t start = pos_;
            while (is_letter(peek())) ++pos_;
            std::string_view word = text_.substr(start, pos_ - start);
            if (word == "e" && peek() == '-' && !is_digit(peek(1))) {  // "e-": electrons
                ++pos_;
                word = "electron";
            }
            std::string name = canonical_unit_name(word);
            const long long p = power() * sign;
            if (!name.empty()) out.emplace_back(std::move(name), p);
        } else if (is_digit(c)) {
            const std::size_t start = pos_;
            while (is_digit(peek())) ++pos_;
            if (text_.substr(start, pos_ - start) != "1") fail("numeric scale factors are not supported");
        } else {
            fail("expected a unit name");
        }
    }

    long long power()
    {
        if (peek() == '^' || (peek() == '*' && peek(1) == '*')) {
            pos_ += peek() == '^' ? 1 : 2;
            return peek() == '(' ? parenthesized_integer() : integer();
        }
        if (is_digit(peek()) || ((peek() == '-' || peek() == '+') && is_digit(peek(1)))) return integer();
        if (peek() == '(') return parenthesized_integer();
        return 1;
    }

    long long parenthesized_integer()
    {
        ++pos_;
        skip_spaces();
        const long long p = integer();
        skip_spaces();
        if (peek() != ')') fail("expected ')' after the exponent (only integer powers are supported)");
        ++pos_;
        return p;
    }

    long long integer()
    {
        long long sign = 1;
        if (peek() == '-' || peek() == '+') sign = text_[pos_++] == '-' ? -1 : 1;
        if (!is_digit(peek())) fail("expected an integer exponent");
        long long value = 0;
        for (; is_digit(peek()); ++pos_) {
            value = value * 10 + (peek() - '0');
            if (value > max_unit_power) fail("exponent out of range");
        }
        return sign * value;
    }

    long long checked(long long p) const
    {
        if (p > max_unit_power || p < -max_unit_power) fail("exponent out of range");
        return p;
    }

    [[noreturn]] void fail(const std::string& why) const
    {
        throw unit_error("invalid unit '" + std::string(text_) + "': " + why +
                         (at_end() ? " at the end" : " at position " + std::to_string(pos_ + 1)));
    }

    static bool is_letter(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
    static bool is_digit(char c) { return c >= '0' && c <= '9'; }
    bool at_end() const { return pos_ >= text_.size(); }
    char peek(std::size_t ahead = 0) const { return pos_ + ahead < text_.size() ? text_[pos_ + ahead] : '\0'; }
    void skip_spaces()
    {
        while (peek() == ' ' || peek() == '\t') ++pos_;
    }

    std::string_view text_;
    std::size_t pos_ = 0;
};

}  // namespace detail

class unit {
public:
    unit() = default;

    // Parses a BUNIT string; throws unit_error naming the string when it is not a unit.
    explicit unit(std::string_view bunit) : factors_(normalize(detail::unit_parser(bunit).parse(), bunit)) {}

    static unit dimensionless() { return unit(); }

    bool is_dimensionless() const { return reduce().bases.empty() && scale() == 1.0; }

    // Factor to the base units: 60 for min, 1 for adu or electron / adu.
    double scale() const { return reduce().scale; }

    unit pow(int n) const
    {
        unit u;
        if (n == 0) return u;
        for (const auto& [name, p] : factors_) u.factors_.emplace_back(name, limit(p * n, to_string()));
        return u;
    }

    // The n-th root, defined when every power divides by n: sqrt of adu2 is adu; of adu, an error.
    unit root(int n) const
    {
        unit u;
        for (const auto& [name, p] : factors_) {
            if (n <= 0 || p % n != 0)
                throw unit_error("cannot take root " + std::to_string(n) + " of " + quoted(*this) +
                                 ": only integer powers are supported");
            u.factors_.emplace_back(name, p / n);
        }
        return u;
    }

    friend unit operator*(const unit& a, const unit& b) { return combine(a, b, +1); }
    friend unit operator/(const unit& a, const unit& b) { return combine(a, b, -1); }

    friend bool operator==(const unit& a, const unit& b)
    {
        const reduced ra = a.reduce(), rb = b.reduce();
        return ra.bases == rb.bases && same_scale(ra.scale, rb.scale);
    }
    friend bool operator!=(const unit& a, const unit& b) { return !(a == b); }

    bool convertible_to(const unit& other) const { return reduce().bases == other.reduce().bases; }

    // f such that 1 (this) = f (other): unit("min").to(unit("s")) == 60.
    double to(const unit& other) const
    {
        if (!convertible_to(other))
            throw unit_error("cannot convert " + quoted(*this) + " to " + quoted(other));
        return scale() / other.scale();
    }

    // astropy's generic format: "electron / adu", "adu2", "electron / (adu s)", "1 / s", "".
    std::string to_string() const
    {
        detail::unit_factors up, down;
        for (const auto& [name, p] : factors_) (p > 0 ? up : down).emplace_back(name, p > 0 ? p : -p);
        std::string out = up.empty() ? (down.empty() ? "" : "1") : join(up);
        if (!down.empty()) out += " / " + (down.size() == 1 ? join(down) : "(" + join(down) + ")");
        return out;
    }

private:
    struct reduced {
        std::map<std::string, long long, std::less<>> bases;
        double scale = 1.0;
    };

    reduced reduce() const
    {
        reduced r;
        for (const auto& [name, p] : factors_) {
            const auto [base, factor] = detail::unit_definition(name);
            if ((r.bases[std::string(base)] += p) == 0) r.bases.erase(r.bases.find(base));
            r.scale *= std::pow(factor, static_cast<double>(p));
        }
        return r;
    }

    // Sorted by name, one entry per name, no zero powers.
    static detail::unit_factors normalize(detail::unit_factors f, std::string_view text)
    {
        std::sort(f.begin(), f.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
        detail::unit_factors out;
        for (auto& [name, p] : f) {
            if (!out.empty() && out.back().first == name)
                out.back().second += p;
            else
                out.emplace_back(std::move(name), p);
            limit(out.back().second, text);
        }
        out.erase(std::remove_if(out.begin(), out.end(), [](const auto& e) { return e.second == 0; }), out.end());
        return out;
    }

    static unit combine(const unit& a, const unit& b, long long sign)
    {
        detail::unit_factors f = a.factors_;
        for (const auto& [name, p] : b.factors_) f.emplace_back(name, sign * p);
        unit u;
        u.factors_ = normalize(std::move(f), a.to_string() + (sign > 0 ? " * " : " / ") + b.to_string());
        return u;
    }

    static long long limit(long long p, std::string_view what)
    {
        if (p > detail::max_unit_power || p < -detail::max_unit_power)
            throw unit_error("unit power out of range in '" + std::string(what) + "'");
        return p;
    }

    static bool same_scale(double a, double b) { return a == b || std::abs(a - b) <= 1e-12 * std::max(std::abs(a), std::abs(b)); }

    static std::string quoted(const unit& u)
    {
        return u.factors_.empty() ? std::string("dimensionless") : "'" + u.to_string() + "'";
    }

    // astropy lists the factors on each side of the '/' alphabetically, ignoring case.
    static std::string join(detail::unit_factors f)
    {
        auto lower = [](std::string s) {
            for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
            return s;
        };
        std::stable_sort(f.begin(), f.end(), [&](const auto& a, const auto& b) { return lower(a.first) < lower(b.first); });
        std::string out;
        for (const auto& [name, p] : f) {
            if (!out.empty()) out += ' ';
            out += name;
            if (p != 1) out += std::to_string(p);
        }
        return out;
    }

    detail::unit_factors factors_;  // named units as written, sorted by name
};

inline std::string to_string(const unit& u) { return u.to_string(); }

inline std::ostream& operator<<(std::ostream& os, const unit& u) { return os << u.to_string(); }

}  // namespace ccdx
