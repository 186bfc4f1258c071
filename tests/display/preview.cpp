#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>
#include <string>
#include <vector>

#include <ccdx/display/preview.hpp>

namespace {

using bytes = std::vector<std::uint8_t>;

std::uint32_t be32(const bytes& b, std::size_t at)
{
    return std::uint32_t(b[at]) << 24 | std::uint32_t(b[at + 1]) << 16 | std::uint32_t(b[at + 2]) << 8 | b[at + 3];
}

struct decoded {
    std::uint32_t width = 0, height = 0;
    int depth = 0, colour = 0;
    bytes pixels;      // filter bytes removed
    int blocks = 0;    // stored deflate blocks seen
};

// An independent reader for what the writer promises: chunks with valid CRCs, a zlib stream of
// stored deflate blocks whose Adler-32 matches, scanlines with filter byte 0.
decoded decode(const bytes& png)
{
    decoded d;
    const bytes signature = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
    REQUIRE(png.size() > 8);
    REQUIRE(bytes(png.begin(), png.begin() + 8) == signature);
    bytes idat;
    std::size_t at = 8;
    std::string last;
    while (at < png.size()) {
        const std::uint32_t len = be32(png, at);
        const std::string type(png.begin() + long(at) + 4, png.begin() + long(at) + 8);
        CHECK(ccdx::detail::png::crc32(png.data() + at + 4, len + 4) == be32(png, at + 8 + len));
        if (type == "IHDR") {
            d.width = be32(png, at + 8);
            d.height = be32(png, at + 12);
            d.depth = png[at + 16];
            d.colour = png[at + 17];
        } else if (type == "IDAT") {
            idat.insert(idat.end(), png.begin() + long(at) + 8, png.begin() + long(at) + 8 + len);
        }
        last = type;
        at += 12 + len;
    }
    CHECK(last == "IEND");
    REQUIRE(idat.size() >= 6);
    CHECK((idat[0] * 256 + idat[1]) % 31 == 0);
    CHECK((idat[0] & 0x0F) == 8);  // deflate
    bytes raw;
    std::size_t p = 2;
    for (bool final = false; !final;) {
        REQUIRE(p + 5 <= idat.size());
        final = idat[p] & 1;
        CHECK(((idat[p] >> 1) & 3) == 0);  // stored
        const unsigned len = idat[p + 1] | idat[p + 2] << 8;
        const unsigned nlen = idat[p + 3] | idat[p + 4] << 8;
        CHECK((len ^ nlen) == 0xFFFFu);
        raw.insert(raw.end(), idat.begin() + long(p) + 5, idat.begin() + long(p) + 5 + len);
        p += 5 + len;
        ++d.blocks;
    }
    REQUIRE(p + 4 == idat.size());
    CHECK(ccdx::detail::png::adler32(raw.data(), raw.size()) == be32(idat, p));
    REQUIRE(raw.size() == std::size_t(d.height) * (d.width + 1));
    for (std::size_t r = 0; r < d.height; ++r) {
        CHECK(raw[r * (d.width + 1)] == 0);
        d.pixels.insert(d.pixels.end(), raw.begin() + long(r * (d.width + 1) + 1), raw.begin() + long((r + 1) * (d.width + 1)));
    }
    return d;
}

bytes read_file(const std::filesystem::path& p)
{
    std::ifstream f(p, std::ios::binary);
    return bytes(std::istreambuf_iterator<char>(f), {});
}

std::filesystem::path scratch(const char* name)
{
    auto dir = std::filesystem::temp_directory_path() / "ccdx_test_preview";
    std::filesystem::create_directories(dir);
    auto p = dir / name;
    std::filesystem::remove(p);
    return p;
}

}  // namespace

TEST_CASE("CRC-32 and Adler-32 give their published check values")
{
    const std::string digits = "123456789", wiki = "Wikipedia";
    CHECK(ccdx::detail::png::crc32(reinterpret_cast<const std::uint8_t*>(digits.data()), digits.size()) == 0xCBF43926u);
    CHECK(ccdx::detail::png::adler32(reinterpret_cast<const std::uint8_t*>(wiki.data()), wiki.size()) == 0x11E60398u);
    // Adler-32 over a run longer than its 5552-byte modulo interval: all 0xFF bytes, by the formula
    // a = 1 + 255 n, b = n + 255 n (n + 1) / 2, both mod 65521.
    const bytes ff(100000, 0xFF);
    const std::uint64_t n = ff.size();
    const std::uint64_t a = (1 + 255 * n) % 65521, b = (n + 255 * n * (n + 1) / 2) % 65521;
    CHECK(ccdx::detail::png::adler32(ff.data(), ff.size()) == (b << 16 | a));
}

TEST_CASE("a PNG decodes back to its pixels, across several stored blocks")
{
    const std::size_t w = 300, h = 250;  // 75250 bytes of scanlines: two stored blocks
    bytes grey(w * h);
    for (std::size_t i = 0; i < grey.size(); ++i) grey[i] = static_cast<std::uint8_t>(i * 31 % 251);
    const auto d = decode(ccdx::png_bytes(grey, w, h));
    CHECK(d.width == w);
    CHECK(d.height == h);
    CHECK(d.depth == 8);
    CHECK(d.colour == 0);
    CHECK(d.blocks == 2);
    CHECK(d.pixels == grey);

    const auto tiny = decode(ccdx::png_bytes({7}, 1, 1));
    CHECK(tiny.pixels == bytes{7});
    CHECK(tiny.blocks == 1);
}

TEST_CASE("bad PNG sizes are refused")
{
    CHECK_THROWS_AS(ccdx::png_bytes({}, 0, 0), ccdx::value_error);
    CHECK_THROWS_WITH_AS(ccdx::png_bytes(bytes(5), 2, 3), doctest::Contains("2 x 3"), ccdx::shape_error);
}

TEST_CASE("zscale limits agree with astropy's ZScaleInterval")
{
    // Reference values from astropy.visualization.ZScaleInterval().get_limits on the same data.
    std::vector<double> v(5000);
    for (std::size_t i = 0; i < v.size(); ++i) {
        const double x = double(i * 7919 % 1000) / 100.0;
        v[i] = 1000 + x * x;
    }
    auto clean = ccdx::zscale_limits(v);
    CHECK(clean.low == doctest::Approx(1000.0));
    CHECK(clean.high == doctest::Approx(1099.0025));
    for (std::size_t i = 0; i < v.size(); i += 97) v[i] = 50000;
    for (std::size_t i = 5; i < v.size(); i += 89) v[i] = -3000;
    const auto outliers = ccdx::zscale_limits(v);
    CHECK(outliers.low == doctest::Approx(821.0909872615408));
    CHECK(outliers.high == doctest::Approx(1230.1373802850765));
    // Non-finite values are left out; too few samples give the full range.
    v.push_back(std::numeric_limits<double>::quiet_NaN());
    v.push_back(std::numeric_limits<double>::infinity());
    CHECK(ccdx::zscale_limits(v).high == doctest::Approx(outliers.high));
    const auto few = ccdx::zscale_limits({0, 1, 2, 3});
    CHECK(few.low == 0);
    CHECK(few.high == 3);
}

TEST_CASE("percentile limits interpolate as numpy does")
{
    std::vector<double> v;
    for (int i = 0; i <= 100; ++i) v.push_back(100 - i);
    const auto lim = ccdx::percentile_limits(v, 1, 99.5);
    CHECK(lim.low == doctest::Approx(1));
    CHECK(lim.high == doctest::Approx(99.5));
    CHECK_THROWS_AS(ccdx::percentile_limits(v, 50, 40), ccdx::value_error);
    CHECK_THROWS_AS(ccdx::percentile_limits(v, -1, 40), ccdx::value_error);
}

TEST_CASE("stretches map 0 to 0 and 1 to 1, brightening the faint end")
{
    for (auto s : {ccdx::stretch::linear, ccdx::stretch::sqrt, ccdx::stretch::log, ccdx::stretch::asinh}) {
        CHECK(ccdx::apply_stretch(0, s, 0.1) == doctest::Approx(0));
        CHECK(ccdx::apply_stretch(1, s, 0.1) == doctest::Approx(1));
        CHECK(ccdx::apply_stretch(2, s, 0.1) == doctest::Approx(1));   // clipped
        CHECK(ccdx::apply_stretch(-1, s, 0.1) == doctest::Approx(0));
    }
    CHECK(ccdx::apply_stretch(0.25, ccdx::stretch::sqrt, 0.1) == doctest::Approx(0.5));
    CHECK(ccdx::apply_stretch(0.1, ccdx::stretch::asinh, 0.1) == doctest::Approx(std::asinh(1.0) / std::asinh(10.0)));
    CHECK(ccdx::apply_stretch(0.1, ccdx::stretch::log, 0.001) == doctest::Approx(std::log(101.0) / std::log(1001.0)));
}

TEST_CASE("a preview puts FITS row 0 at the bottom and NaN in black")
{
    ccdx::image<float> img(3, 2, ccdx::unit("adu"));
    img.data() = xt::xtensor<float, 2>{{0, 0}, {50, std::numeric_limits<float>::quiet_NaN()}, {100, 100}};
    ccdx::preview_options o;
    o.limits = ccdx::preview_options::limits_kind::percentile;
    o.low_percent = 0;
    o.high_percent = 100;
    o.stretch = ccdx::stretch::linear;
    const auto p = ccdx::render_preview(img, o);
    CHECK(p.width == 2);
    CHECK(p.height == 3);
    CHECK(p.limits.low == 0);
    CHECK(p.limits.high == 100);
    CHECK(p.grey == bytes{255, 255, 128, 0, 0, 0});

    o.max_side = 1;  // block-averaged by 3: one pixel, the mean of all six (NaN: black)
    const auto small = ccdx::render_preview(img, o);
    CHECK(small.width == 1);
    CHECK(small.height == 1);
    CHECK(small.grey == bytes{0});
    o.max_side = 2;  // by 2: rows {0,1} and {2}, one column each
    const auto halved = ccdx::render_preview(img, o);
    CHECK(halved.width == 1);
    CHECK(halved.height == 2);

    o.softening = 0;
    CHECK_THROWS_AS(ccdx::render_preview(img, o), ccdx::value_error);
    CHECK_THROWS_AS(ccdx::render_preview(ccdx::image<float>(), ccdx::preview_options{}), ccdx::shape_error);
}

TEST_CASE("write_preview writes a PNG and does not overwrite unless asked")
{
    ccdx::image<double> img(40, 60, ccdx::unit("adu"));
    for (std::size_t r = 0; r < 40; ++r)
        for (std::size_t c = 0; c < 60; ++c) img.data()(r, c) = double(r * c % 17);
    const auto path = scratch("ramp.png");
    ccdx::write_preview(img, path);
    const auto d = decode(read_file(path));
    CHECK(d.width == 60);
    CHECK(d.height == 40);
    CHECK_THROWS_WITH_AS(ccdx::write_preview(img, path), doctest::Contains("ramp.png"), ccdx::error);
    ccdx::preview_options o;
    o.overwrite = true;
    CHECK_NOTHROW(ccdx::write_preview(img, path, o));
    CHECK_THROWS_AS(ccdx::write_png(path.parent_path() / "no-such-folder" / "x.png", {1}, 1, 1), ccdx::error);
}
