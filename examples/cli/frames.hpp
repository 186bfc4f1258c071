#pragma once
// The frames a command works on: files, folders (every FITS file in them) and globs, narrowed
// by repeatable --where conditions on their headers, as ImageFileCollection.files_filtered does.

#include <glob.h>

#include <filesystem>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include <CLI/CLI.hpp>

#include <ccdx/core/detail/text.hpp>
#include <ccdx/core/error.hpp>
#include <ccdx/io/collection.hpp>
#include <ccdx/io/fits.hpp>

namespace ccdx::cli {

namespace fs = std::filesystem;

// "2", "SCI" or "SCI,2": an HDU by number (0 = primary), EXTNAME, or EXTNAME and EXTVER.
inline hdu_choice hdu_from_text(const std::string& text)
{
    const std::string t(detail::trim(text));
    if (const auto n = detail::parse_number<int>(t)) return *n;
    const auto comma = t.find(',');
    const std::string name(detail::trim(t.substr(0, comma)));
    const auto version = comma == std::string::npos ? std::optional<int>(0) : detail::parse_number<int>(detail::trim(t.substr(comma + 1)));
    if (name.empty() || !version || (comma != std::string::npos && *version < 1))
        throw value_error("an HDU is a number, EXTNAME or EXTNAME,EXTVER (e.g. 2, SCI or SCI,1), got '" + text + "'");
    if (comma == std::string::npos) return name;
    return extension{name, *version};
}

// A file and the HDU its name gives, as cfitsio writes them: "f.fits[2]", "f.fits[SCI]",
// "f.fits[SCI,1]". A file whose own name ends in brackets is that file.
struct fits_input {
    fs::path file;
    hdu_choice hdu;
};

inline fits_input split_hdu(const std::string& text)
{
    std::error_code ec;
    const auto open = text.rfind('[');
    if (text.empty() || text.back() != ']' || open == std::string::npos || open == 0 || fs::exists(text, ec))
        return {text, {}};
    return {text.substr(0, open), hdu_from_text(text.substr(open + 1, text.size() - open - 2))};
}

// The options that read `text`'s file: `read`, at the HDU its name gives.
inline read_options at_hdu(read_options read, const fits_input& in)
{
    if (!std::holds_alternative<std::monostate>(in.hdu)) read.hdu = in.hdu;
    return read;
}

// --hdu, for the frames a command reads.
inline void add_hdu(CLI::App* cmd, std::string& hdu)
{
    cmd->add_option("--hdu", hdu, "HDU of each frame: a number (0 = primary), EXTNAME or EXTNAME,EXTVER "
                                  "(also written FILE[2], FILE[SCI,1])");
}

// KEY=VALUE (keyword and text case-insensitive; a number compares by value; * is any value),
// KEY!=VALUE (the opposite, a missing keyword included) or KEY~REGEX (a search in the value).
inline keyword_match where_condition(const std::string& text)
{
    const auto op = text.find_first_of("=!~");
    const bool differs = op != std::string::npos && text.compare(op, 2, "!=") == 0;
    if (op == std::string::npos || op == 0 || (text[op] == '!' && !differs))
        throw value_error("--where wants KEY=VALUE, KEY!=VALUE or KEY~REGEX, got '" + text + "'");
    const std::string key(detail::trim(text.substr(0, op)));
    if (text[op] == '~') return keyword_match::regex(key, text.substr(op + 1));
    const keyword_match m = keyword_match::from_text(key, text.substr(op + (differs ? 2 : 1)));
    return differs ? !m : m;
}

inline std::vector<keyword_match> where_conditions(const std::vector<std::string>& where)
{
    std::vector<keyword_match> out;
    for (const auto& w : where) out.push_back(where_condition(w));
    return out;
}

// The repeatable --where option, one condition per use.
inline void add_where(CLI::App* cmd, std::vector<std::string>& where)
{
    cmd->add_option("--where", where,
                    "Only frames whose header meets KEY=VALUE, KEY!=VALUE or KEY~REGEX (repeatable; "
                    "case-insensitive, numbers by value, * for any value)")
        ->expected(1)
        ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
}

// The files a shell pattern names, in order; the pattern is kept for the shell's own globbing
// having left it (quoted, or matching nothing).
inline std::vector<fs::path> glob_files(const std::string& pattern)
{
    glob_t g{};
    std::vector<fs::path> out;
    if (::glob(pattern.c_str(), 0, nullptr, &g) == 0)
        for (std::size_t i = 0; i < g.gl_pathc; ++i) out.emplace_back(g.gl_pathv[i]);
    ::globfree(&g);
    return out;
}

// Every frame the inputs name whose header meets every --where condition: a folder gives its
// FITS files (as `ccdx summary` lists them), a pattern the files it matches. None is an error.
// The frames are read at one HDU, which --hdu (`hdu`) or the inputs' names (f.fits[2]) set in
// `read`; names that disagree are an error.
inline std::vector<fs::path> chosen_frames(const std::vector<std::string>& inputs, const std::vector<std::string>& where,
                                           read_options& read, const std::string& hdu = "")
{
    if (!hdu.empty()) read.hdu = hdu_from_text(hdu);
    std::vector<fits_input> split;
    for (const auto& text : inputs) {
        split.push_back(split_hdu(text));
        const hdu_choice& named = split.back().hdu;
        if (std::holds_alternative<std::monostate>(named)) continue;
        if (!std::holds_alternative<std::monostate>(read.hdu) && read.hdu != named)
            throw value_error("'" + text + "' names another HDU than " +
                              (hdu.empty() ? "the frames before it" : "--hdu " + hdu) + ": the frames are read at one HDU");
        read.hdu = named;
    }
    const std::vector<keyword_match> conditions = where_conditions(where);
    std::vector<fs::path> out;
    for (const fits_input& input : split) {
        const std::string in = input.file.string();
        std::error_code ec;
        if (fs::is_directory(in, ec)) {
            collection_options o;
            o.read = read;
            for (const auto& p : image_collection(in, o).filter(conditions).paths()) out.push_back(p);
            continue;
        }
        std::vector<fs::path> named{fs::path(in)};
        if (!fs::exists(in, ec)) {
            if (in.find_first_of("*?[") == std::string::npos) throw error("no file or folder '" + in + "'");
            named = glob_files(in);
            if (named.empty()) throw error("no file matches '" + in + "'");
        }
        for (const auto& p : named) {
            if (conditions.empty()) {
                out.push_back(p);
                continue;
            }
            const header h = read_fits_header(p, read);
            bool all = true;
            for (const auto& c : conditions) all = all && c(h);
            if (all) out.push_back(p);
        }
    }
    if (out.empty()) throw value_error("no frame meets the --where conditions");
    return out;
}

}  // namespace ccdx::cli
