#pragma once
// A FITS header: ordered cards of keyword, typed value and comment. Lookups ignore case, as
// FITS keywords do; COMMENT and HISTORY cards repeat and keep their order. Values hold strings
// of any length: splitting them over CONTINUE cards is the FITS writer's business.

#include <algorithm>
#include <charconv>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include "ccdx/core/detail/format.hpp"
#include "ccdx/core/detail/text.hpp"
#include "ccdx/core/error.hpp"
#include "ccdx/core/unit.hpp"

namespace ccdx {

// monostate: a card without a value (FITS "undefined").
using card_value = std::variant<std::monostate, bool, std::int64_t, double, std::string>;

struct card {
    std::string keyword;
    card_value value;
    std::string comment;
};

// FITS-like text: strings as they are, T/F, integers, reals with a decimal point ("90.0",
// "0.3", "1e-05") so that they read back as reals; "" for an undefined value.
inline std::string to_string(const card_value& v)
{
    struct visitor {
        std::string operator()(std::monostate) const { return ""; }
        std::string operator()(bool b) const { return b ? "T" : "F"; }
        std::string operator()(std::int64_t i) const { return std::to_string(i); }
        std::string operator()(double d) const
        {
            std::string s = detail::number_text(d);
            if (s.find_first_of(".eni") == std::string::npos) s += ".0";  // "90" would read back as an integer
            return s;
        }
        std::string operator()(const std::string& s) const { return s; }
    };
    return std::visit(visitor{}, v);
}

namespace detail {

// Type names for messages, in FITS words.
inline const char* card_type_name(const card_value& v)
{
    static const char* names[] = {"an undefined value", "a logical", "an integer", "a real", "a string"};
    return names[v.index()];
}

template <class T>
std::string requested_type_name()
{
    if constexpr (std::is_same_v<T, bool>) return "a logical";
    else if constexpr (std::is_same_v<T, std::int64_t>) return "an integer";
    else if constexpr (std::is_integral_v<T>)
        return "an integer in [" + std::to_string(std::numeric_limits<T>::min()) + ", " +
               std::to_string(std::numeric_limits<T>::max()) + "]";
    else if constexpr (std::is_floating_point_v<T>) return "a real";
    else return "a string";
}

// "HIERARCH ESO DET GAIN" is stored and looked up as "ESO DET GAIN".
inline std::string_view strip_hierarch(std::string_view key)
{
    constexpr std::string_view prefix = "HIERARCH ";
    if (key.size() > prefix.size() && iequals(key.substr(0, prefix.size()), prefix)) key.remove_prefix(prefix.size());
    return key;
}

inline bool is_commentary(std::string_view key)
{
    return key.empty() || iequals(key, "HISTORY") || iequals(key, "COMMENT");
}

}  // namespace detail

class header {
public:
    using const_iterator = std::vector<card>::const_iterator;

    bool contains(std::string_view key) const { return find(key) != nullptr; }

    // The first card with this keyword, or nullptr.
    const card* find(std::string_view key) const
    {
        key = detail::strip_hierarch(key);
        for (const card& c : cards_)
            if (detail::iequals(c.keyword, key)) return &c;
        return nullptr;
    }

    // The value as T, or nullopt when the keyword is missing or has no value. Integers widen to
    // reals and numeric strings ("90.0") are parsed; anything else throws keyword_error.
    template <class T>
    std::optional<T> get(std::string_view key) const
    {
        static_assert(std::is_arithmetic_v<T> || std::is_same_v<T, std::string>,
                      "header values read as bool, an integer, a floating-point type or std::string");
        const card* c = find(key);
        if (!c || std::holds_alternative<std::monostate>(c->value)) return std::nullopt;
        if (auto v = convert<T>(c->value)) return v;
        throw keyword_error("keyword '" + std::string(key) + "' holds " + detail::card_type_name(c->value) + " (" +
                            to_string(c->value) + "), not " + detail::requested_type_name<T>());
    }

    // The value as T; throws keyword_error when the keyword is missing, undefined or of another type.
    template <class T>
    T value(std::string_view key) const
    {
        if (auto v = get<T>(key)) return *v;
        throw keyword_error("keyword '" + std::string(key) + "' " +
                            (contains(key) ? "has no value" : "not found in header"));
    }

    // Replaces the first card with this keyword in place (keeping its comment unless a new one
    // is given), or appends one. HISTORY, COMMENT and blank cards repeat: they always append.
    void set(std::string keyword, card_value value, std::string comment = "")
    {
        if (const auto bare = detail::strip_hierarch(keyword); bare.size() != keyword.size()) keyword = std::string(bare);
        if (!detail::is_commentary(keyword)) {
            for (card& c : cards_) {
                if (!detail::iequals(c.keyword, keyword)) continue;
                c.value = std::move(value);
                if (!comment.empty()) c.comment = std::move(comment);
                return;
            }
        }
        cards_.push_back({std::move(keyword), std::move(value), std::move(comment)});
    }

    // Appends a card even when its keyword is already present, as a file may hold it: lookups
    // then find the first, as astropy's do, and a round trip keeps every card.
    void append(card c)
    {
        if (const auto bare = detail::strip_hierarch(c.keyword); bare.size() != c.keyword.size())
            c.keyword = std::string(bare);
        cards_.push_back(std::move(c));
    }

    // Removes every card with this keyword; false if there was none.
    bool erase(std::string_view key)
    {
        key = detail::strip_hierarch(key);
        const auto before = cards_.size();
        cards_.erase(std::remove_if(cards_.begin(), cards_.end(),
                                    [&](const card& c) { return detail::iequals(c.keyword, key); }),
                     cards_.end());
        return cards_.size() != before;
    }

    void add_history(std::string text) { cards_.push_back({"HISTORY", std::move(text), ""}); }
    void add_comment(std::string text) { cards_.push_back({"COMMENT", std::move(text), ""}); }
    std::vector<std::string> history() const { return texts("HISTORY"); }
    std::vector<std::string> comments() const { return texts("COMMENT"); }

    const std::vector<card>& cards() const noexcept { return cards_; }
    std::size_t size() const noexcept { return cards_.size(); }
    bool empty() const noexcept { return cards_.empty(); }
    const_iterator begin() const noexcept { return cards_.begin(); }
    const_iterator end() const noexcept { return cards_.end(); }

private:
    template <class T>
    static std::optional<T> convert(const card_value& v)
    {
        if constexpr (std::is_same_v<T, std::string>) {
            if (auto s = std::get_if<std::string>(&v)) return *s;
        } else if constexpr (std::is_same_v<T, bool>) {
            if (auto b = std::get_if<bool>(&v)) return *b;
        } else if constexpr (std::is_integral_v<T>) {
            std::optional<std::int64_t> i;
            if (auto p = std::get_if<std::int64_t>(&v)) i = *p;
            if (auto s = std::get_if<std::string>(&v)) i = detail::parse_number<std::int64_t>(*s);
            if (i && in_range<T>(*i)) return static_cast<T>(*i);
        } else {  // floating point
            if (auto d = std::get_if<double>(&v)) return static_cast<T>(*d);
            if (auto i = std::get_if<std::int64_t>(&v)) return static_cast<T>(*i);
            if (auto s = std::get_if<std::string>(&v))
                if (auto d = detail::parse_number<double>(*s)) return static_cast<T>(*d);
        }
        return std::nullopt;
    }

    template <class T>
    static bool in_range(std::int64_t i)
    {
        if constexpr (std::is_signed_v<T>)
            return i >= static_cast<std::int64_t>(std::numeric_limits<T>::min()) &&
                   i <= static_cast<std::int64_t>(std::numeric_limits<T>::max());
        else
            return i >= 0 && static_cast<std::uint64_t>(i) <= std::numeric_limits<T>::max();
    }

    std::vector<std::string> texts(std::string_view keyword) const
    {
        std::vector<std::string> out;
        for (const card& c : cards_)
            if (detail::iequals(c.keyword, keyword)) out.push_back(to_string(c.value));
        return out;
    }

    std::vector<card> cards_;
};

}  // namespace ccdx
