#pragma once
// Pieces every ccdx command shares: output checks, progress on a terminal, argument parsing.

#include <charconv>
#include <cstddef>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <optional>
#include <string>
#include <utility>

#include <unistd.h>

#include <CLI/CLI.hpp>

#include <ccdx/core/detail/text.hpp>
#include <ccdx/core/error.hpp>

namespace ccdx::cli {

namespace fs = std::filesystem;

// Each command adds itself to the application.
void add_summary(CLI::App& app);
void add_combine(CLI::App& app);
void add_reduce(CLI::App& app);
void add_calc(CLI::App& app);
void add_preview(CLI::App& app);
void add_cosmic(CLI::App& app);
void add_mask(CLI::App& app);
void add_night(CLI::App& app);

// A library message in the command line's words: the options it names become the flags that set them.
inline std::string in_flags(std::string message)
{
    static const std::pair<const char*, const char*> words[] = {
        {"give its unit with read_options::unit or unit_if_none", "give its unit with --unit"},
        {"give the unit with read_options::unit", "give the unit with --unit"},
        {"set write_options::overwrite to replace it", "add --overwrite to replace it"},
        {"set write.overwrite to replace it", "add --overwrite to replace it"},
    };
    for (const auto& [api, flag] : words)
        for (auto at = message.find(api); at != std::string::npos; at = message.find(api, at))
            message.replace(at, std::char_traits<char>::length(api), flag);
    return message;
}

// Refuses to replace an existing output unless --overwrite was given.
inline void check_output(const fs::path& out, bool overwrite)
{
    if (fs::exists(out) && !overwrite) throw error("'" + out.string() + "' exists; add --overwrite to replace it");
    const fs::path folder = out.has_parent_path() ? out.parent_path() : fs::path(".");
    if (!fs::is_directory(folder)) throw error("folder '" + folder.string() + "' for '" + out.string() + "' does not exist");
}

// Progress on stderr, one line rewritten in place, only when stderr is a terminal.
class progress {
public:
    explicit progress(std::string task) : task_(std::move(task)), on_(::isatty(STDERR_FILENO) == 1) {}
    progress(const progress&) = delete;
    progress& operator=(const progress&) = delete;
    ~progress() { finish(); }

    void step(std::size_t done, std::size_t total, const std::string& what = "")
    {
        if (!on_) return;
        std::fprintf(stderr, "\r\033[K%s %zu/%zu %s", task_.c_str(), done, total, what.c_str());
        std::fflush(stderr);
        shown_ = true;
    }

    void finish()
    {
        if (shown_) std::fprintf(stderr, "\r\033[K");
        shown_ = false;
    }

private:
    std::string task_;
    bool on_;
    bool shown_ = false;
};

// "LOW,HIGH" as two numbers.
inline std::pair<double, double> number_pair(const std::string& text, const std::string& option)
{
    const auto comma = text.find(',');
    const auto x = comma == std::string::npos ? std::nullopt : detail::parse_number<double>(text.substr(0, comma));
    const auto y = comma == std::string::npos ? std::nullopt : detail::parse_number<double>(text.substr(comma + 1));
    if (!x || !y) throw value_error(option + " wants two numbers separated by a comma, got '" + text + "'");
    return {*x, *y};
}

// A memory size: bytes, or a number with K, M, G or T (powers of 1024): "2G", "512M", "1.5G".
inline std::size_t memory_size(const std::string& text)
{
    double value = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    const std::size_t used = ec == std::errc{} ? static_cast<std::size_t>(end - text.data()) : 0;
    std::string suffix = text.substr(used);
    if (!suffix.empty() && (suffix.back() == 'B' || suffix.back() == 'b')) suffix.pop_back();
    double scale = 0;
    if (suffix.empty()) scale = 1;
    else if (suffix == "K" || suffix == "k") scale = 1024.0;
    else if (suffix == "M" || suffix == "m") scale = 1024.0 * 1024;
    else if (suffix == "G" || suffix == "g") scale = 1024.0 * 1024 * 1024;
    else if (suffix == "T" || suffix == "t") scale = 1024.0 * 1024 * 1024 * 1024;
    if (used == 0 || scale == 0 || !(value > 0))
        throw value_error("--memory-limit wants a size like 2G, 512M or 1000000, got '" + text + "'");
    return static_cast<std::size_t>(value * scale);
}

}  // namespace ccdx::cli
