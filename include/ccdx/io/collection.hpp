#pragma once
// A folder of FITS frames as a table of header keywords: found by file name (or by reading),
// each header read once, then filtered, sorted, tabulated and iterated lazily as images.
//
//   ccdx::image_collection night("data");
//   auto lights = night.filter({{"imagetyp", "light"}, {"filter", "r"}});
//   std::cout << lights.summary({"object", "exposure"});
//   for (auto& frame : lights.ccds("reduced")) frame.image = (frame.image - bias) / flat;

#include <algorithm>
#include <cctype>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <optional>
#include <ostream>
#include <regex>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include <fnmatch.h>

#include "ccdx/core/detail/format.hpp"
#include "ccdx/core/detail/text.hpp"
#include "ccdx/core/detail/warning.hpp"
#include "ccdx/core/error.hpp"
#include "ccdx/core/header.hpp"
#include "ccdx/core/image.hpp"
#include "ccdx/io/fits.hpp"

namespace ccdx {

struct collection_options {
    // File name endings that mark FITS files, compared case-insensitively (so .FITS counts).
    // Files compressed as a whole (.gz, .bz2, Unix compress .Z) and tile-compressed ones (.fz) count.
    std::vector<std::string> extensions{".fits",     ".fit",     ".fts",     ".fits.gz", ".fit.gz", ".fts.gz",
                                        ".fits.bz2", ".fit.bz2", ".fts.bz2", ".fits.Z",  ".fit.Z",  ".fts.Z",
                                        ".fits.fz",  ".fit.fz",  ".fts.fz"};
    // Ignore the names: keep every file that starts like FITS (or is gzip, bzip2 or compress'ed)
    // and whose header reads.
    bool find_by_reading = false;
    // Glob patterns (* ? [a-z] [!x]) on bare file names: keep those matching any `include`
    // (all when empty), then drop those matching any `exclude`.
    std::vector<std::string> include;
    std::vector<std::string> exclude;
    // The HDU read for every file (headers and images), and the unit for files without BUNIT.
    read_options read{};
    // Where a skipped file is reported; by default a line on std::clog.
    warning_handler warn;
};

namespace detail::collection {

// A shell pattern over a whole name (* any run, ? one character, [set]), as fnmatch(3) reads it.
inline bool glob_match(std::string_view pattern, std::string_view name)
{
    return ::fnmatch(std::string(pattern).c_str(), std::string(name).c_str(), 0) == 0;
}

// A header value as a table cell: strings bare, booleans True/False, numbers in their shortest
// round-trip form with floats keeping a decimal point (90.0, 1e-05).
inline std::string cell_text(const card_value& v)
{
    struct visitor {
        std::string operator()(std::monostate) const { return ""; }
        std::string operator()(bool b) const { return b ? "True" : "False"; }
        std::string operator()(std::int64_t i) const { return std::to_string(i); }
        std::string operator()(double d) const
        {
            std::string s = detail::number_text(d);
            if (s.find_first_of(".eEn") == std::string::npos) s += ".0";  // n: nan, inf
            return s;
        }
        std::string operator()(const std::string& s) const { return std::string(rtrim(s)); }
    };
    return std::visit(visitor{}, v);
}

inline bool is_commentary(std::string_view keyword)
{
    return iequals(keyword, "COMMENT") || iequals(keyword, "HISTORY");
}

// The cell for one keyword of one header: commentary cards joined with ',', else the first card.
inline std::optional<std::string> cell(const header& h, std::string_view keyword)
{
    if (is_commentary(keyword)) {
        std::optional<std::string> joined;
        for (const auto& c : h.cards()) {
            if (!iequals(c.keyword, keyword)) continue;
            joined = joined ? *joined + "," + cell_text(c.value) : cell_text(c.value);
        }
        return joined;
    }
    const card* c = h.find(keyword);
    if (!c) return std::nullopt;
    return cell_text(c->value);
}

// Sort order of header values: numbers (bool as 0/1) by value, then strings, then missing.
inline int rank(const card_value* v)
{
    if (!v || std::holds_alternative<std::monostate>(*v)) return 2;
    return std::holds_alternative<std::string>(*v) ? 1 : 0;
}

inline double number(const card_value& v)
{
    if (const auto* b = std::get_if<bool>(&v)) return *b ? 1 : 0;
    if (const auto* i = std::get_if<std::int64_t>(&v)) return static_cast<double>(*i);
    if (const auto* d = std::get_if<double>(&v)) return *d;
    return 0;
}

inline bool looks_like_fits(const std::filesystem::path& path)
{
    std::ifstream f(path, std::ios::binary);
    char head[9] = {};
    f.read(head, sizeof head);
    const auto byte = [&](int i) { return static_cast<unsigned char>(head[i]); };
    // gzip, Unix compress and bzip2: the header read decides.
    if (f.gcount() >= 2 && byte(0) == 0x1F && (byte(1) == 0x8B || byte(1) == 0x9D)) return true;
    if (f.gcount() >= 3 && std::string_view(head, 3) == "BZh") return true;
    return f.gcount() == 9 && std::string_view(head, 9) == "SIMPLE  =";
}

}  // namespace detail::collection

// One condition on a header keyword (keyword names are case-insensitive):
//   {"imagetyp", "light"}  string value: whole value, case-insensitive ("*" means present with any value)
//   {"exposure", 90}       number or bool: numeric equality with a number or bool card (90 matches 90.0)
//   keyword_match::regex("object", "^m[0-9]+")  case-insensitive regular-expression search in a string value
//   keyword_match::missing("object")            the keyword is absent
//   keyword_match::from_text("exposure", "90")  typed text: 90 by value, or "90" as a string
//   !m                                          m's opposite (a missing keyword included)
// A string never matches a number card nor a number a string card.
class keyword_match {
public:
    keyword_match(std::string keyword, std::string value) : keyword_(std::move(keyword))
    {
        if (value == "*")
            test_ = [](const card&) { return true; };
        else
            test_ = [value = std::move(value)](const card& c) {
                const auto* s = std::get_if<std::string>(&c.value);
                return s && detail::iequals(detail::rtrim(*s), detail::rtrim(value));
            };
    }
    keyword_match(std::string keyword, const char* value) : keyword_match(std::move(keyword), std::string(value)) {}

    template <class N, class = std::enable_if_t<std::is_arithmetic_v<N>>>
    keyword_match(std::string keyword, N value) : keyword_(std::move(keyword))
    {
        const double want = static_cast<double>(value);
        test_ = [want](const card& c) {
            return !std::holds_alternative<std::string>(c.value) && !std::holds_alternative<std::monostate>(c.value) &&
                   detail::collection::number(c.value) == want;
        };
    }

    static keyword_match regex(std::string keyword, const std::string& pattern)
    {
        // A pattern costs time polynomial in its length and the value's, whatever it is:
        // libstdc++'s default matcher backtracks, exponentially on patterns like "(a+)+b", and
        // its compiler recurses once per nesting level.
        if (pattern.size() > 1024)
            throw value_error("regular expression for keyword '" + keyword + "' is " + std::to_string(pattern.size()) +
                              " characters long, more than the 1024 allowed");
        constexpr auto syntax = std::regex::ECMAScript | std::regex::icase
#ifdef __GLIBCXX__
                                | std::regex_constants::__polynomial
#endif
            ;
        std::regex re;
        try {
            re = std::regex(pattern, syntax);
        } catch (const std::regex_error& e) {
            throw value_error("bad regular expression '" + pattern + "' for keyword '" + keyword + "': " + e.what());
        }
        keyword_match m(std::move(keyword));
        m.test_ = [re](const card& c) {
            const auto* s = std::get_if<std::string>(&c.value);
            return s && std::regex_search(*s, re);
        };
        return m;
    }

    static keyword_match missing(std::string keyword)
    {
        keyword_match m(std::move(keyword));
        m.missing_ = true;
        return m;
    }

    // A value as typed on a command line, where it has no type: "*" is any value; text that
    // reads as a number matches number cards by value and string cards by its text; other text,
    // string cards.
    static keyword_match from_text(std::string keyword, const std::string& text)
    {
        keyword_match as_text(keyword, text);
        const std::optional<double> number = detail::parse_number<double>(detail::trim(text));
        if (text == "*" || !number) return as_text;
        keyword_match m(std::move(keyword));
        m.test_ = [as_text = as_text.test_, as_number = keyword_match(m.keyword_, *number).test_](const card& c) {
            return as_text(c) || as_number(c);
        };
        return m;
    }

    // The opposite condition: true wherever this one is false, a missing keyword included.
    keyword_match operator!() const
    {
        keyword_match m = *this;
        m.negated_ = !negated_;
        return m;
    }

    const std::string& keyword() const noexcept { return keyword_; }

    bool operator()(const header& h) const
    {
        const card* c = h.find(keyword_);
        return negated_ != (missing_ ? c == nullptr : c != nullptr && test_(*c));
    }

private:
    explicit keyword_match(std::string keyword) : keyword_(std::move(keyword)) {}

    std::string keyword_;
    bool missing_ = false, negated_ = false;
    std::function<bool(const card&)> test_;
};

// A table of header keywords, one row per file; missing keywords are empty cells.
class summary_table {
public:
    summary_table(std::vector<std::string> columns, std::vector<std::vector<std::string>> rows)
        : columns_(std::move(columns)), rows_(std::move(rows))
    {}

    const std::vector<std::string>& columns() const noexcept { return columns_; }
    const std::vector<std::vector<std::string>>& rows() const noexcept { return rows_; }

    // Aligned columns under a header line; cells longer than `max_width` are cut with "...".
    void print(std::ostream& os, std::size_t max_width = 40) const
    {
        const auto clip = [max_width](const std::string& s) {
            return s.size() <= max_width || max_width < 4 ? s : s.substr(0, max_width - 3) + "...";
        };
        std::vector<std::size_t> width(columns_.size());
        for (std::size_t c = 0; c < columns_.size(); ++c) {
            width[c] = clip(columns_[c]).size();
            for (const auto& row : rows_) width[c] = std::max(width[c], clip(row[c]).size());
        }
        const auto line = [&](const std::vector<std::string>& cells) {
            std::string out;
            for (std::size_t c = 0; c < cells.size(); ++c) {
                const std::string text = clip(cells[c]);
                out += text;
                if (c + 1 < cells.size()) out += std::string(width[c] - text.size() + 2, ' ');
            }
            os << out << '\n';
        };
        line(columns_);
        std::vector<std::string> rule;
        for (std::size_t w : width) rule.emplace_back(w, '-');
        line(rule);
        for (const auto& row : rows_) line(row);
    }

    // CSV quoted as RFC 4180 says (cells with a comma, quote or line break quoted, quotes doubled),
    // with plain line ends, which awk, cut and pandas read as they are.
    void write_csv(std::ostream& os) const
    {
        const auto quoted = [](const std::string& s) {
            if (s.find_first_of(",\"\r\n") == std::string::npos) return s;
            std::string q = "\"";
            for (char c : s) q += c == '"' ? std::string("\"\"") : std::string(1, c);
            return q + "\"";
        };
        const auto line = [&](const std::vector<std::string>& cells) {
            for (std::size_t c = 0; c < cells.size(); ++c) os << (c ? "," : "") << quoted(cells[c]);
            os << '\n';
        };
        line(columns_);
        for (const auto& row : rows_) line(row);
    }

private:
    std::vector<std::string> columns_;
    std::vector<std::vector<std::string>> rows_;
};

inline std::ostream& operator<<(std::ostream& os, const summary_table& t)
{
    t.print(os);
    return os;
}

// One image of a collection, read when the iteration reaches it.
template <class T>
struct frame {
    std::string file;              // the bare file name
    std::filesystem::path path;    // where it was read from
    ccdx::image<T> image;
};

// The images of a collection, read one at a time. With a save folder or a name suffix, each
// frame (as the loop body left it) is written when the loop moves on to the next, so a `break`
// leaves the current frame unsaved: into the save folder (else beside the file it came from),
// under its own name with the suffix before the ending ("a.fits.gz" + "_red": "a_red.fits.gz").
template <class T>
class frame_range {
public:
    struct source {
        std::string file;
        std::filesystem::path path;
    };

    frame_range(std::vector<source> sources, read_options read, std::filesystem::path save_to, write_options write,
                std::string suffix = "")
        : sources_(std::move(sources)), read_(std::move(read)), save_to_(std::move(save_to)), write_(write),
          suffix_(std::move(suffix))
    {
        if (!save_to_.empty() && !std::filesystem::is_directory(save_to_))
            throw fits_error("save folder '" + save_to_.string() + "' does not exist");
    }

    class iterator {
    public:
        using value_type = frame<T>;
        using reference = frame<T>&;
        using difference_type = std::ptrdiff_t;
        using iterator_category = std::input_iterator_tag;

        iterator(const frame_range* range, std::size_t index) : range_(range), index_(index) {}

        frame<T>& operator*()
        {
            if (!loaded_) {
                const auto& s = range_->sources_[index_];
                current_.file = s.file;
                current_.path = s.path;
                current_.image = read_fits<T>(s.path, range_->read_);
                loaded_ = true;
            }
            return current_;
        }
        frame<T>* operator->() { return &**this; }

        iterator& operator++()
        {
            if (loaded_ && range_->saving()) write_fits(current_.image, range_->destination(current_.path), range_->write_);
            loaded_ = false;
            ++index_;
            return *this;
        }

        bool operator==(const iterator& o) const { return index_ == o.index_; }
        bool operator!=(const iterator& o) const { return index_ != o.index_; }

    private:
        const frame_range* range_;
        std::size_t index_;
        bool loaded_ = false;
        frame<T> current_;
    };

    iterator begin() const { return iterator(this, 0); }
    iterator end() const { return iterator(this, sources_.size()); }
    std::size_t size() const noexcept { return sources_.size(); }

private:
    bool saving() const { return !save_to_.empty() || !suffix_.empty(); }

    std::filesystem::path destination(const std::filesystem::path& from) const
    {
        std::string name = from.filename().string();
        if (!suffix_.empty()) {
            // The ending is the last one, with the one before it when the last is a compression's.
            auto dot = name.rfind('.');
            if (dot != std::string::npos && dot > 0)
                for (const char* packed : {".gz", ".bz2", ".fz", ".Z", ".zip"})
                    if (detail::iequals(std::string_view(name).substr(dot), packed)) {
                        const auto before = name.rfind('.', dot - 1);
                        if (before != std::string::npos && before > 0) dot = before;
                    }
            name.insert(dot == std::string::npos || dot == 0 ? name.size() : dot, suffix_);
        }
        return (save_to_.empty() ? from.parent_path() : save_to_) / name;
    }

    std::vector<source> sources_;
    read_options read_;
    std::filesystem::path save_to_;
    write_options write_;
    std::string suffix_;
};

class image_collection {
public:
    struct entry {
        std::string file;       // bare file name, relative to location()
        ccdx::header header;
    };

    // Every FITS file in `folder` (see collection_options). A missing folder, or one with no
    // readable FITS file, throws fits_error; unreadable files are skipped with a warning.
    explicit image_collection(std::filesystem::path folder, collection_options options = {})
        : location_(std::move(folder)), options_(std::move(options))
    {
        refresh();
    }

    // These files, in this order, from any folders (as ccdproc's `filenames`): no ending or
    // glob is applied, `file` is each path as given and location() is empty. An empty list is
    // an empty collection; unreadable files are skipped with a warning.
    static image_collection from_files(const std::vector<std::filesystem::path>& files, collection_options options = {})
    {
        image_collection c;
        c.options_ = std::move(options);
        c.chosen_.emplace();
        for (const auto& f : files) c.chosen_->push_back(f.string());
        c.refresh();
        return c;
    }

    const std::filesystem::path& location() const noexcept { return location_; }
    std::size_t size() const noexcept { return entries_.size(); }
    bool empty() const noexcept { return entries_.empty(); }

    std::vector<std::string> files() const
    {
        std::vector<std::string> out;
        for (const auto& e : entries_) out.push_back(e.file);
        return out;
    }
    std::vector<std::filesystem::path> paths() const
    {
        std::vector<std::filesystem::path> out;
        for (const auto& e : entries_) out.push_back(location_ / e.file);
        return out;
    }

    // The files skipped at the last (re)read, each with the reason.
    const std::vector<std::pair<std::string, std::string>>& skipped() const noexcept { return skipped_; }

    // Iteration over (file, header) entries, in the collection's order.
    const std::vector<entry>& entries() const noexcept { return entries_; }
    auto begin() const noexcept { return entries_.begin(); }
    auto end() const noexcept { return entries_.end(); }

    // The files whose headers satisfy every condition, as a collection of its own (maybe empty).
    image_collection filter(const std::vector<keyword_match>& conditions) const
    {
        image_collection out = *this;
        out.entries_.clear();
        for (const auto& e : entries_)
            if (std::all_of(conditions.begin(), conditions.end(), [&](const keyword_match& m) { return m(e.header); }))
                out.entries_.push_back(e);
        out.chosen_ = out.files();
        return out;
    }

    // The value of `keyword` in each file (std::monostate where it is missing); with `unique`,
    // each distinct value once, in order of first appearance.
    std::vector<card_value> values(std::string_view keyword, bool unique = false) const
    {
        std::vector<card_value> out;
        for (const auto& e : entries_) {
            const card* c = e.header.find(keyword);
            card_value v = c ? c->value : card_value{};
            if (!unique || std::find(out.begin(), out.end(), v) == out.end()) out.push_back(std::move(v));
        }
        return out;
    }

    // Orders the files by these keywords (first one first): numbers by value, then strings,
    // then files missing the keyword; ties keep their order.
    void sort(const std::vector<std::string>& keywords)
    {
        if (keywords.empty()) throw value_error("sort needs at least one keyword");
        std::stable_sort(entries_.begin(), entries_.end(), [&](const entry& x, const entry& y) {
            for (const auto& k : keywords) {
                const card* cx = x.header.find(k);
                const card* cy = y.header.find(k);
                const card_value* vx = cx ? &cx->value : nullptr;
                const card_value* vy = cy ? &cy->value : nullptr;
                const int rx = detail::collection::rank(vx), ry = detail::collection::rank(vy);
                if (rx != ry) return rx < ry;
                if (rx == 0) {
                    const double a = detail::collection::number(*vx), b = detail::collection::number(*vy);
                    if (a != b) return a < b;
                } else if (rx == 1) {
                    const auto& a = std::get<std::string>(*vx);
                    const auto& b = std::get<std::string>(*vy);
                    if (a != b) return a < b;
                }
            }
            return false;
        });
        if (chosen_) chosen_ = files();
    }

    // Reads the headers again: the folder is listed again, or, for a filtered collection, the
    // same files are re-read (files gone since are skipped with a warning).
    void refresh()
    {
        namespace fs = std::filesystem;
        std::error_code ec;
        if (!(chosen_ && location_.empty()) && !fs::is_directory(location_, ec))
            throw fits_error("folder '" + location_.string() + "' does not exist");
        std::vector<std::string> names;
        if (chosen_) {
            names = *chosen_;
        } else {
            for (const auto& d : fs::directory_iterator(location_, ec)) {
                if (!d.is_regular_file(ec)) continue;
                const std::string name = d.path().filename().string();
                if (selected(name, d.path())) names.push_back(name);
            }
            if (ec) throw fits_error("cannot list folder '" + location_.string() + "': " + ec.message());
            std::sort(names.begin(), names.end());
        }

        std::vector<entry> entries;
        skipped_.clear();
        for (const auto& name : names) {
            try {
                entries.push_back({name, read_fits_header(location_ / name, options_.read)});
            } catch (const std::exception& e) {
                skipped_.emplace_back(name, e.what());
                const std::string message = "skipping '" + (location_ / name).string() + "': " + e.what();
                detail::warn(options_.warn, message);
            }
        }
        if (entries.empty() && !chosen_) {
            std::string wanted;
            for (const auto& e : options_.extensions) wanted += (wanted.empty() ? "" : " ") + e;
            throw fits_error("no readable FITS files in folder '" + location_.string() + "'" +
                             (options_.find_by_reading ? std::string(" (read every file)") : " (looked for " + wanted + ")"));
        }
        entries_ = std::move(entries);
    }

    // File plus every keyword, in order of first appearance, lower-cased.
    summary_table summary() const { return summary({"*"}); }

    // File plus the given keywords (in the spelling given, duplicates dropped); "*" among them is
    // every keyword and none is the file column alone, as in ccdproc. COMMENT and HISTORY cards
    // are joined with ','.
    summary_table summary(std::vector<std::string> keywords) const
    {
        using namespace detail::collection;
        using detail::iequals, detail::lowercase, detail::rtrim;
        if (std::find(keywords.begin(), keywords.end(), "*") != keywords.end()) {
            keywords.clear();
            for (const auto& e : entries_)
                for (const auto& c : e.header.cards()) {
                    if (rtrim(c.keyword).empty()) continue;
                    const std::string k = lowercase(c.keyword);
                    if (std::find(keywords.begin(), keywords.end(), k) == keywords.end()) keywords.push_back(k);
                }
        }
        std::vector<std::string> columns{"file"};
        for (auto& k : keywords)
            if (!iequals(k, "file") &&
                std::none_of(columns.begin(), columns.end(), [&](const std::string& c) { return iequals(c, k); }))
                columns.push_back(k);
        std::vector<std::vector<std::string>> rows;
        for (const auto& e : entries_) {
            std::vector<std::string> row{e.file};
            for (std::size_t c = 1; c < columns.size(); ++c) row.push_back(cell(e.header, columns[c]).value_or(""));
            rows.push_back(std::move(row));
        }
        return summary_table(std::move(columns), std::move(rows));
    }

    // The images, read lazily (see frame_range); with `save_to` or `save_with_name` (ccdproc's
    // save_location and save_with_name), each is written after the loop body has run on it.
    template <class T = float>
    frame_range<T> ccds(std::filesystem::path save_to = {}, write_options write = {},
                        std::string save_with_name = "") const
    {
        std::vector<typename frame_range<T>::source> sources;
        for (const auto& e : entries_) sources.push_back({e.file, location_ / e.file});
        return frame_range<T>(std::move(sources), options_.read, std::move(save_to), write, std::move(save_with_name));
    }

private:
    image_collection() = default;

    bool selected(const std::string& name, const std::filesystem::path& path) const
    {
        using detail::collection::glob_match;
        if (!options_.include.empty() &&
            std::none_of(options_.include.begin(), options_.include.end(), [&](const std::string& g) { return glob_match(g, name); }))
            return false;
        if (std::any_of(options_.exclude.begin(), options_.exclude.end(), [&](const std::string& g) { return glob_match(g, name); }))
            return false;
        if (options_.find_by_reading) return detail::collection::looks_like_fits(path);
        return std::any_of(options_.extensions.begin(), options_.extensions.end(),
                           [&](const std::string& ext) { return detail::iends_with(name, ext); });
    }

    std::filesystem::path location_;
    collection_options options_;
    std::optional<std::vector<std::string>> chosen_;   // set for a filtered collection
    std::vector<entry> entries_;
    std::vector<std::pair<std::string, std::string>> skipped_;
};

}  // namespace ccdx
