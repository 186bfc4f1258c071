#pragma once
// The frames a command works on: files, folders (every FITS file in them) and globs, narrowed
// by repeatable --where conditions on their headers, as ImageFileCollection.files_filtered does.

#include <glob.h>

#include <filesystem>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include <ccdx/core/detail/text.hpp>
#include <ccdx/core/error.hpp>
#include <ccdx/io/collection.hpp>
#include <ccdx/io/fits.hpp>

namespace ccdx::cli {

namespace fs = std::filesystem;

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
inline std::vector<fs::path> chosen_frames(const std::vector<std::string>& inputs, const std::vector<std::string>& where,
                                           const read_options& read = {})
{
    const std::vector<keyword_match> conditions = where_conditions(where);
    std::vector<fs::path> out;
    for (const auto& in : inputs) {
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
