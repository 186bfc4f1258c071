// Draws bench/compare.py's table as a bar chart: one group of bars per operation, one bar per
// contender, lengths on a logarithmic time axis (the contenders differ by orders of magnitude),
// each bar labelled with its time. Written as an RGB PNG by libpng.
//
//   bench_chart compare.csv compare.png
//
// The CSV's first three columns are operation, contender, median_ms; other columns are ignored.

#include <png.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

namespace {

// A 5 x 7 bitmap font for what the labels use, one byte per row, high bit on the left (upper
// case is drawn lower case).
using glyph = std::array<std::uint8_t, 7>;
const std::map<char, glyph>& glyphs()
{
    static const std::map<char, glyph> g = {
        {'a', {0b00000, 0b00000, 0b01110, 0b00001, 0b01111, 0b10001, 0b01111}},
        {'b', {0b10000, 0b10000, 0b10110, 0b11001, 0b10001, 0b10001, 0b11110}},
        {'c', {0b00000, 0b00000, 0b01110, 0b10000, 0b10000, 0b10001, 0b01110}},
        {'d', {0b00001, 0b00001, 0b01101, 0b10011, 0b10001, 0b10001, 0b01111}},
        {'e', {0b00000, 0b00000, 0b01110, 0b10001, 0b11111, 0b10000, 0b01110}},
        {'f', {0b00110, 0b01001, 0b01000, 0b11100, 0b01000, 0b01000, 0b01000}},
        {'g', {0b00000, 0b01111, 0b10001, 0b10001, 0b01111, 0b00001, 0b01110}},
        {'h', {0b10000, 0b10000, 0b10110, 0b11001, 0b10001, 0b10001, 0b10001}},
        {'i', {0b00100, 0b00000, 0b01100, 0b00100, 0b00100, 0b00100, 0b01110}},
        {'j', {0b00010, 0b00000, 0b00110, 0b00010, 0b00010, 0b10010, 0b01100}},
        {'k', {0b10000, 0b10000, 0b10010, 0b10100, 0b11000, 0b10100, 0b10010}},
        {'l', {0b01100, 0b00100, 0b00100, 0b00100, 0b00100, 0b00100, 0b01110}},
        {'m', {0b00000, 0b00000, 0b11010, 0b10101, 0b10101, 0b10001, 0b10001}},
        {'n', {0b00000, 0b00000, 0b10110, 0b11001, 0b10001, 0b10001, 0b10001}},
        {'o', {0b00000, 0b00000, 0b01110, 0b10001, 0b10001, 0b10001, 0b01110}},
        {'p', {0b00000, 0b00000, 0b11110, 0b10001, 0b11110, 0b10000, 0b10000}},
        {'q', {0b00000, 0b00000, 0b01101, 0b10011, 0b01111, 0b00001, 0b00001}},
        {'r', {0b00000, 0b00000, 0b10110, 0b11001, 0b10000, 0b10000, 0b10000}},
        {'s', {0b00000, 0b00000, 0b01110, 0b10000, 0b01110, 0b00001, 0b11110}},
        {'t', {0b01000, 0b01000, 0b11100, 0b01000, 0b01000, 0b01001, 0b00110}},
        {'u', {0b00000, 0b00000, 0b10001, 0b10001, 0b10001, 0b10011, 0b01101}},
        {'v', {0b00000, 0b00000, 0b10001, 0b10001, 0b10001, 0b01010, 0b00100}},
        {'w', {0b00000, 0b00000, 0b10001, 0b10001, 0b10101, 0b10101, 0b01010}},
        {'x', {0b00000, 0b00000, 0b10001, 0b01010, 0b00100, 0b01010, 0b10001}},
        {'y', {0b00000, 0b00000, 0b10001, 0b10001, 0b01111, 0b00001, 0b01110}},
        {'z', {0b00000, 0b00000, 0b11111, 0b00010, 0b00100, 0b01000, 0b11111}},
        {'0', {0b01110, 0b10001, 0b10011, 0b10101, 0b11001, 0b10001, 0b01110}},
        {'1', {0b00100, 0b01100, 0b00100, 0b00100, 0b00100, 0b00100, 0b01110}},
        {'2', {0b01110, 0b10001, 0b00001, 0b00010, 0b00100, 0b01000, 0b11111}},
        {'3', {0b11111, 0b00010, 0b00100, 0b00010, 0b00001, 0b10001, 0b01110}},
        {'4', {0b00010, 0b00110, 0b01010, 0b10010, 0b11111, 0b00010, 0b00010}},
        {'5', {0b11111, 0b10000, 0b11110, 0b00001, 0b00001, 0b10001, 0b01110}},
        {'6', {0b00110, 0b01000, 0b10000, 0b11110, 0b10001, 0b10001, 0b01110}},
        {'7', {0b11111, 0b00001, 0b00010, 0b00100, 0b01000, 0b01000, 0b01000}},
        {'8', {0b01110, 0b10001, 0b10001, 0b01110, 0b10001, 0b10001, 0b01110}},
        {'9', {0b01110, 0b10001, 0b10001, 0b01111, 0b00001, 0b00010, 0b01100}},
        {'.', {0b00000, 0b00000, 0b00000, 0b00000, 0b00000, 0b01100, 0b01100}},
        {',', {0b00000, 0b00000, 0b00000, 0b00000, 0b01100, 0b00100, 0b01000}},
        {'%', {0b11000, 0b11001, 0b00010, 0b00100, 0b01000, 0b10011, 0b00011}},
        {'(', {0b00010, 0b00100, 0b01000, 0b01000, 0b01000, 0b00100, 0b00010}},
        {')', {0b01000, 0b00100, 0b00010, 0b00010, 0b00010, 0b00100, 0b01000}},
        {'-', {0b00000, 0b00000, 0b00000, 0b11111, 0b00000, 0b00000, 0b00000}},
        {'/', {0b00000, 0b00001, 0b00010, 0b00100, 0b01000, 0b10000, 0b00000}},
        {':', {0b00000, 0b01100, 0b01100, 0b00000, 0b01100, 0b01100, 0b00000}},
        {'+', {0b00000, 0b00100, 0b00100, 0b11111, 0b00100, 0b00100, 0b00000}},
        {'=', {0b00000, 0b00000, 0b11111, 0b00000, 0b11111, 0b00000, 0b00000}},
        {'_', {0b00000, 0b00000, 0b00000, 0b00000, 0b00000, 0b00000, 0b11111}},
        {'^', {0b00100, 0b01010, 0b10001, 0b00000, 0b00000, 0b00000, 0b00000}},
        {'>', {0b01000, 0b00100, 0b00010, 0b00001, 0b00010, 0b00100, 0b01000}},
        {'<', {0b00010, 0b00100, 0b01000, 0b10000, 0b01000, 0b00100, 0b00010}},

    };
    return g;
}

struct rgb {
    std::uint8_t r, g, b;
};

class canvas {
public:
    canvas(int w, int h) : w_(w), h_(h), px_(std::size_t(w) * std::size_t(h) * 3, 255) {}

    void fill(int x0, int y0, int x1, int y1, rgb c)
    {
        for (int y = std::max(0, y0); y < std::min(h_, y1); ++y)
            for (int x = std::max(0, x0); x < std::min(w_, x1); ++x) {
                std::uint8_t* p = &px_[(std::size_t(y) * std::size_t(w_) + std::size_t(x)) * 3];
                p[0] = c.r, p[1] = c.g, p[2] = c.b;
            }
    }

    // Text at scale s (6 s pixels per character), top-left at (x, y); returns the width drawn.
    int text(int x, int y, const std::string& t, rgb c, int s = 2)
    {
        int cx = x;
        for (char ch : t) {
            const char lower = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
            const auto g = glyphs().find(lower);
            if (g != glyphs().end())
                for (int row = 0; row < 7; ++row)
                    for (int col = 0; col < 5; ++col)
                        if (g->second[std::size_t(row)] & (0x10 >> col)) fill(cx + col * s, y + row * s, cx + (col + 1) * s, y + (row + 1) * s, c);
            cx += 6 * s;
        }
        return cx - x;
    }

    bool save(const std::string& path) const
    {
        png_image im{};
        im.version = PNG_IMAGE_VERSION;
        im.width = static_cast<png_uint_32>(w_);
        im.height = static_cast<png_uint_32>(h_);
        im.format = PNG_FORMAT_RGB;
        return png_image_write_to_file(&im, path.c_str(), 0, px_.data(), 0, nullptr) != 0;
    }

private:
    int w_, h_;
    std::vector<std::uint8_t> px_;
};

std::vector<std::string> split(const std::string& line)
{
    std::vector<std::string> out;
    std::string field;
    bool quoted = false;
    for (char c : line) {
        if (c == '"') quoted = !quoted;
        else if (c == ',' && !quoted) out.push_back(field), field.clear();
        else field += c;
    }
    out.push_back(field);
    return out;
}

std::string time_label(double ms)
{
    char b[32];
    if (ms >= 10000) std::snprintf(b, sizeof b, "%.0f s", ms / 1000);
    else if (ms >= 1000) std::snprintf(b, sizeof b, "%.2f s", ms / 1000);
    else std::snprintf(b, sizeof b, "%.0f ms", ms);
    return b;
}

}  // namespace

int main(int argc, char** argv)
{
    if (argc != 3) {
        std::fprintf(stderr, "usage: bench_chart TABLE.csv CHART.png\n");
        return 2;
    }
    std::ifstream in(argv[1]);
    if (!in) {
        std::fprintf(stderr, "bench_chart: cannot read %s\n", argv[1]);
        return 1;
    }
    struct bar {
        std::string contender;
        double ms;
    };
    std::vector<std::pair<std::string, std::vector<bar>>> groups;
    std::vector<std::string> contenders;
    std::string line;
    std::getline(in, line);  // the column names
    while (std::getline(in, line)) {
        const auto f = split(line);
        if (f.size() < 3 || f[2].empty()) continue;
        const double ms = std::stod(f[2]);
        if (!(ms > 0)) continue;
        if (groups.empty() || groups.back().first != f[0]) groups.push_back({f[0], {}});
        groups.back().second.push_back({f[1], ms});
        if (std::find(contenders.begin(), contenders.end(), f[1]) == contenders.end()) contenders.push_back(f[1]);
    }
    if (groups.empty()) {
        std::fprintf(stderr, "bench_chart: no timings in %s\n", argv[1]);
        return 1;
    }
    const rgb palette[] = {{31, 119, 180}, {174, 199, 232}, {255, 127, 14}, {44, 160, 44}, {148, 103, 189}, {127, 127, 127}};
    const rgb ink{30, 30, 30}, grid{215, 215, 215};
    std::size_t longest = 0;
    for (const auto& g : groups) longest = std::max(longest, g.first.size());
    const int bar_h = 16, gap = 22, left = 12 * int(longest) + 30, plot_w = 640, top = 70;
    int height = top + 40;
    for (const auto& g : groups) height += int(g.second.size()) * bar_h + gap;
    canvas c(left + plot_w + 120, height);

    double lo = 1e300, hi = 0;
    for (const auto& g : groups)
        for (const bar& b : g.second) lo = std::min(lo, b.ms), hi = std::max(hi, b.ms);
    const double d0 = std::floor(std::log10(lo)), d1 = std::ceil(std::log10(hi));
    const auto x_of = [&](double ms) { return left + int((std::log10(ms) - d0) / std::max(1.0, d1 - d0) * plot_w); };

    c.text(10, 10, "median time per operation, log scale (shorter is faster)", ink);
    int lx = 10;
    for (std::size_t i = 0; i < contenders.size(); ++i) {
        c.fill(lx, 40, lx + 14, 54, palette[i % 6]);
        lx += 20 + c.text(lx + 20, 40, contenders[i], ink) + 16;
    }
    for (double d = d0; d <= d1; ++d) {
        const int x = x_of(std::pow(10.0, d));
        c.fill(x, top, x + 1, height - 30, grid);
        char tick[16];
        const double ms = std::pow(10.0, d);
        std::snprintf(tick, sizeof tick, ms < 1000 ? "%g ms" : "%g s", ms < 1000 ? ms : ms / 1000);
        c.text(x - 20, height - 24, tick, ink);
    }
    int y = top;
    for (const auto& g : groups) {
        c.text(10, y + int(g.second.size()) * bar_h / 2 - 7, g.first, ink);
        for (const bar& b : g.second) {
            const auto k = std::size_t(std::find(contenders.begin(), contenders.end(), b.contender) - contenders.begin());
            const int x = std::max(left + 2, x_of(b.ms));
            c.fill(left, y + 1, x, y + bar_h - 1, palette[k % 6]);
            c.text(x + 6, y + 2, time_label(b.ms), ink, 1);
            y += bar_h;
        }
        y += gap;
    }
    if (!c.save(argv[2])) {
        std::fprintf(stderr, "bench_chart: cannot write %s\n", argv[2]);
        return 1;
    }
    return 0;
}
