#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>
#include <string>
#include <vector>

#include <png.h>

#include <ccdx/display/preview.hpp>

namespace {

using bytes = std::vector<std::uint8_t>;

struct decoded {
    std::uint32_t width = 0, height = 0;
    png_uint_32 format = 0;
    bytes pixels;
};

// Reads the PNG back with libpng, which checks its CRCs and its zlib stream.
decoded decode(const bytes& png)
{
    png_image im{};
    im.version = PNG_IMAGE_VERSION;
    REQUIRE(png_image_begin_read_from_memory(&im, png.data(), png.size()));
    decoded d;
    d.width = im.width;
    d.height = im.height;
    d.format = im.format;
    im.format = PNG_FORMAT_GRAY;
    d.pixels.resize(PNG_IMAGE_SIZE(im));
    REQUIRE(png_image_finish_read(&im, nullptr, d.pixels.data(), 0, nullptr));
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

TEST_CASE("a PNG decodes back to its pixels, compressed")
{
    const std::size_t w = 300, h = 250;
    bytes grey(w * h);
    for (std::size_t i = 0; i < grey.size(); ++i) grey[i] = static_cast<std::uint8_t>((i % w + i / w) / 3);  // a smooth ramp
    const bytes png = ccdx::png_bytes(grey, w, h);
    const auto d = decode(png);
    CHECK(d.width == w);
    CHECK(d.height == h);
    CHECK(d.format == PNG_FORMAT_GRAY);
    CHECK(d.pixels == grey);
    CHECK(png.size() * 4 < grey.size());  // a ramp compresses well: the PNG is a small fraction of its pixels

    const auto tiny = decode(ccdx::png_bytes({7}, 1, 1));
    CHECK(tiny.pixels == bytes{7});
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
