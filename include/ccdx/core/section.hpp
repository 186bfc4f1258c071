#pragma once
// FITS image sections such as TRIMSEC = '[17:528, 1:520]': 1-based, inclusive, x (column)
// first; '*' (or ':') is a whole axis, '-*' the whole axis reversed, a high:low range is
// reversed, a single number is a single pixel. Converted to 0-based half-open row/column ranges.
//
// Unlike ccdproc, a section is always two-dimensional and never silently clipped: a one-axis
// string or an index outside the image throws section_error.

#include <charconv>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "ccdx/core/error.hpp"

namespace ccdx {

// [begin, end) on one axis, 0-based; begin <= end. reversed: the string ran high to low.
struct axis_range {
    std::size_t begin = 0;
    std::size_t end = 0;
    bool reversed = false;

    std::size_t size() const { return end - begin; }

    friend bool operator==(const axis_range& a, const axis_range& b)
    {
        return a.begin == b.begin && a.end == b.end && a.reversed == b.reversed;
    }
    friend bool operator!=(const axis_range& a, const axis_range& b) { return !(a == b); }
};

struct section {
    axis_range rows;
    axis_range cols;

    friend bool operator==(const section& a, const section& b) { return a.rows == b.rows && a.cols == b.cols; }
    friend bool operator!=(const section& a, const section& b) { return !(a == b); }
};

namespace detail {

class section_parser {
public:
    section_parser(std::string_view text, std::optional<std::pair<std::size_t, std::size_t>> shape)
        : text_(text), shape_(shape)
    {
    }

    section parse() const
    {
        // Spaces are allowed anywhere, as ccdproc allows them: drop them all first.
        std::string s;
        for (char c : text_)
            if (c != ' ' && c != '\t') s += c;
        if (s.size() < 2 || s.front() != '[' || s.back() != ']') fail("expected [x1:x2,y1:y2]");
        const std::string_view body = std::string_view(s).substr(1, s.size() - 2);

        const auto comma = body.find(',');
        if (comma == std::string_view::npos)
            fail("one axis given, but a section names two: [x1:x2,y1:y2]");
        if (body.find(',', comma + 1) != std::string_view::npos)
            fail("more than two axes given, but a section names two: [x1:x2,y1:y2]");

        section out;
        out.cols = axis(body.substr(0, comma), shape_ ? std::optional<std::size_t>(shape_->second) : std::nullopt);
        out.rows = axis(body.substr(comma + 1), shape_ ? std::optional<std::size_t>(shape_->first) : std::nullopt);
        return out;
    }

private:
    axis_range axis(std::string_view spec, std::optional<std::size_t> extent) const
    {
        if (spec == "*" || spec == ":" || spec == "-*") {
            if (!extent) fail("'" + std::string(spec) + "' needs the image shape");
            return {0, *extent, spec == "-*"};
        }
        const auto colon = spec.find(':');
        const std::size_t first = index(spec.substr(0, colon), extent);
        if (colon == std::string_view::npos) return {first - 1, first, false};

        const std::string_view rest = spec.substr(colon + 1);
        if (rest.find(':') != std::string_view::npos) fail("steps are not supported");
        const std::size_t last = index(rest, extent);
        if (first <= last) return {first - 1, last, false};
        return {last - 1, first, true};
    }

    // A 1-based index within the axis.
    std::size_t index(std::string_view digits, std::optional<std::size_t> extent) const
    {
        std::size_t value = 0;
        const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
        if (digits.empty() || digits.front() == '-' || digits.front() == '+' || ec != std::errc{} ||
            end != digits.data() + digits.size())
            fail("'" + std::string(digits) + "' is not a pixel index");
        if (value == 0) fail("FITS pixel indices start at 1");
        if (extent && value > *extent)
            fail("index " + std::to_string(value) + " is outside the image of shape (" +
                 std::to_string(shape_->first) + ", " + std::to_string(shape_->second) + ")");
        return value;
    }

    [[noreturn]] void fail(const std::string& why) const
    {
        throw section_error("invalid section '" + std::string(text_) + "': " + why);
    }

    std::string_view text_;
    std::optional<std::pair<std::size_t, std::size_t>> shape_;
};

}  // namespace detail

// Parses a section of an image of rows × cols pixels.
inline section parse_section(std::string_view text, std::size_t rows, std::size_t cols)
{
    return detail::section_parser(text, std::pair{rows, cols}).parse();
}

// Parses a section with explicit bounds on both axes ('*' needs a shape and is refused).
inline section parse_section(std::string_view text) { return detail::section_parser(text, std::nullopt).parse(); }

// "[x1:x2,y1:y2]", 1-based inclusive; a reversed range prints high to low.
inline std::string to_string(const section& s)
{
    auto axis = [](const axis_range& r) {
        const std::string low = std::to_string(r.begin + 1), high = std::to_string(r.end);
        return r.reversed ? high + ":" + low : low + ":" + high;
    };
    return "[" + axis(s.cols) + "," + axis(s.rows) + "]";
}

}  // namespace ccdx
