#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <set>
#include <utility>
#include <vector>

#include <xtensor/xtensor.hpp>

#include "ccdx/detect/cosmicray.hpp"

using ccdx::image;
namespace la = ccdx::detail::lacosmic;

namespace {

constexpr double scale = 5.3;  // the noise of ccdproc's cosmic-ray test frames

image<double> flat(std::size_t ny, std::size_t nx, double value, double sigma = 0)
{
    image<double> img(ny, nx, ccdx::unit("adu"));
    img.data().fill(value);
    if (sigma > 0) {
        xt::xtensor<double, 2> u = xt::xtensor<double, 2>::from_shape({ny, nx});
        u.fill(sigma);
        img.set_uncertainty(std::move(u));
    }
    return img;
}

// Gaussian noise of the given scale with `count` single-pixel hits of 20 to 30 sigma, at
// least 4 pixels apart and 3 from the edges, as ccdproc's tests build them.
std::pair<image<double>, std::vector<std::pair<std::size_t, std::size_t>>>
noisy_with_hits(std::size_t n, double mean, double sigma, int count, unsigned seed)
{
    std::mt19937 rng(seed);
    std::normal_distribution<double> noise(mean, sigma);
    std::uniform_int_distribution<std::size_t> pos(3, n - 4);
    std::uniform_real_distribution<double> uni(0, 1);
    image<double> img(n, n, ccdx::unit("adu"));
    for (auto& v : img.data()) v = noise(rng);
    std::vector<std::pair<std::size_t, std::size_t>> hits;
    while (static_cast<int>(hits.size()) < count) {
        const std::size_t y = pos(rng), x = pos(rng);
        const bool close = std::any_of(hits.begin(), hits.end(), [&](const auto& h) {
            return std::max(y > h.first ? y - h.first : h.first - y, x > h.second ? x - h.second : h.second - x) < 4;
        });
        if (close) continue;
        hits.emplace_back(y, x);
        img.data()(y, x) = mean + (20 + 10 * uni(rng)) * sigma;
    }
    return {std::move(img), std::move(hits)};
}

std::size_t count_bits(const image<double>& img, ccdx::mask_t bits)
{
    if (!img.has_mask()) return 0;
    return static_cast<std::size_t>(
        std::count_if(img.mask().begin(), img.mask().end(), [bits](ccdx::mask_t m) { return (m & bits) != 0; }));
}

bool all_marked(const image<double>& img, const std::vector<std::pair<std::size_t, std::size_t>>& at)
{
    return std::all_of(at.begin(), at.end(), [&](const auto& p) {
        return (img.mask()(p.first, p.second) & ccdx::mask_bits::cosmic_ray) != 0;
    });
}

// Every flagged pixel is one of `at` or touches one.
bool only_near(const image<double>& img, const std::vector<std::pair<std::size_t, std::size_t>>& at)
{
    for (std::size_t y = 0; y < img.rows(); ++y)
        for (std::size_t x = 0; x < img.cols(); ++x) {
            if (img.mask()(y, x) == 0) continue;
            const bool near = std::any_of(at.begin(), at.end(), [&](const auto& p) {
                return (y > p.first ? y - p.first : p.first - y) <= 1 && (x > p.second ? x - p.second : p.second - x) <= 1;
            });
            if (!near) return false;
        }
    return true;
}

}  // namespace

// ------------------------------------------------------------------------------------------
// cosmicray_median

TEST_CASE("cosmicray_median flags a pixel more than thresh errors above its local median")
{
    auto img = flat(30, 40, 100.0, 2.0);
    img.data()(10, 12) = 111.0;  // 5.5 errors above the median of 100
    img.data()(20, 30) = 109.0;  // 4.5 errors: below the threshold
    const auto out = ccdx::cosmicray_median(img);  // thresh 5, mbox 11, error = uncertainty
    CHECK(count_bits(out, ccdx::mask_bits::all) == 1);
    CHECK(out.mask()(10, 12) == ccdx::mask_bits::cosmic_ray);
    CHECK(out.data()(10, 12) == 111.0);  // no rbox: values kept
    CHECK(out.uncertainty()(0, 0) == 2.0);
    CHECK(out.unit() == ccdx::unit("adu"));
}

TEST_CASE("cosmicray_median finds ccdproc's 30 test hits with each kind of error")
{
    auto [img, hits] = noisy_with_hits(100, 0.0, scale, 30, 125);
    ccdx::cosmicray_median_options o;
    o.error = scale;
    const auto with_number = ccdx::cosmicray_median(img, o);
    CHECK(count_bits(with_number, ccdx::mask_bits::cosmic_ray) == 30);
    CHECK(all_marked(with_number, hits));

    xt::xtensor<double, 2> sigma = xt::xtensor<double, 2>::from_shape({100, 100});
    sigma.fill(scale);
    CHECK(count_bits(ccdx::cosmicray_median(img, sigma), ccdx::mask_bits::cosmic_ray) == 30);

    img.set_uncertainty(sigma);
    CHECK(count_bits(ccdx::cosmicray_median(img), ccdx::mask_bits::cosmic_ray) == 30);

    // No uncertainty, no error given: the standard deviation of the pixels (inflated by the hits).
    img.drop_uncertainty();
    CHECK(count_bits(ccdx::cosmicray_median(img), ccdx::mask_bits::cosmic_ray) == 30);
}

TEST_CASE("cosmicray_median grows hits by a gbox box, centred as scipy's maximum filter")
{
    auto img = flat(30, 30, 100.0, 1.0);
    img.data()(10, 10) = 200.0;
    ccdx::cosmicray_median_options o;
    o.gbox = 3;
    auto out = ccdx::cosmicray_median(img, o);
    CHECK(count_bits(out, ccdx::mask_bits::cosmic_ray) == 9);
    for (std::size_t y = 9; y <= 11; ++y)
        for (std::size_t x = 9; x <= 11; ++x) CHECK(out.mask()(y, x) == ccdx::mask_bits::cosmic_ray);
    // An even box reaches one further before the centre: pixels 9..12 see the hit.
    o.gbox = 4;
    out = ccdx::cosmicray_median(img, o);
    CHECK(count_bits(out, ccdx::mask_bits::cosmic_ray) == 16);
    CHECK(out.mask()(12, 12) != 0);
    CHECK(out.mask()(8, 8) == 0);
}

TEST_CASE("cosmicray_median replaces hits by the median of an rbox box")
{
    auto img = flat(30, 30, 100.0, 1.0);
    img.data()(10, 10) = 200.0;
    img.data()(10, 11) = 104.0;  // in the box, so the median of 9 moves: 100 100 100 100 100 100 100 104 200
    ccdx::cosmicray_median_options o;
    o.rbox = 3;
    const auto out = ccdx::cosmicray_median(img, o);
    CHECK(out.data()(10, 10) == 100.0);
    CHECK(out.data()(10, 11) == 104.0);  // not a hit: untouched
    CHECK(out.mask()(10, 10) == ccdx::mask_bits::cosmic_ray);

    // ccdproc's check: with noise, the replaced values are lower than the hits they replace.
    auto [noisy, hits] = noisy_with_hits(100, 0.0, scale, 30, 7);
    o.error = scale;
    o.rbox = 21;
    const auto cleaned = ccdx::cosmicray_median(noisy, o);
    for (const auto& [y, x] : hits) CHECK(cleaned.data()(y, x) < noisy.data()(y, x) - 15 * scale);
}

TEST_CASE("cosmicray_median keeps the bits already in the mask")
{
    auto img = flat(20, 20, 50.0, 1.0);
    img.data()(5, 5) = 100.0;
    img.ensure_mask()(5, 5) = ccdx::mask_bits::hot;
    img.mask()(0, 0) = ccdx::mask_bits::bad;
    const auto out = ccdx::cosmicray_median(img);
    CHECK(out.mask()(5, 5) == (ccdx::mask_bits::hot | ccdx::mask_bits::cosmic_ray));
    CHECK(out.mask()(0, 0) == ccdx::mask_bits::bad);
}

TEST_CASE("cosmicray_median rejects bad arguments")
{
    const auto img = flat(10, 12, 1.0, 1.0);
    xt::xtensor<double, 2> wrong = xt::ones<double>({12, 10});
    CHECK_THROWS_WITH_AS(ccdx::cosmicray_median(img, wrong), doctest::Contains("(12, 10)"), ccdx::shape_error);
    ccdx::cosmicray_median_options o;
    o.mbox = 0;
    CHECK_THROWS_AS(ccdx::cosmicray_median(img, o), ccdx::value_error);
}

// ------------------------------------------------------------------------------------------
// L.A.Cosmic building blocks

TEST_CASE("L+ of a single bright pixel: 2 at the pixel, 0 around it")
{
    la::plane a = xt::zeros<float>({3, 3});
    a(1, 1) = 1.0f;
    const auto l = la::laplacian_plus(a);
    // Each subpixel of the centre: 4 - 1 (its twin) - 0 - 1 (its twin) - 0 = 2.
    CHECK(l(1, 1) == 2.0f);
    CHECK(l(0, 1) == 0.0f);
    CHECK(l(1, 0) == 0.0f);
    // A lone pixel at the corner sees zeros outside the image.
    la::plane b = xt::zeros<float>({2, 2});
    b(0, 0) = 3.0f;
    CHECK(la::laplacian_plus(b)(0, 0) == 6.0f);
}

TEST_CASE("separable medians: rows then columns, the border keeps the input")
{
    std::mt19937 rng(3);
    std::normal_distribution<float> noise(0.f, 1.f);
    la::plane a = la::plane::from_shape({13, 29});
    for (auto& v : a) v = noise(rng);
    const auto m = la::separable_median<5>(a);
    auto median5 = [](std::vector<float> v) {
        std::sort(v.begin(), v.end());
        return v[2];
    };
    for (std::size_t j = 0; j < 13; ++j)
        for (std::size_t i = 0; i < 29; ++i) {
            if (j < 2 || j >= 11 || i < 2 || i >= 27) {
                CHECK(m(j, i) == a(j, i));
                continue;
            }
            std::vector<float> column;
            for (std::size_t k = j - 2; k <= j + 2; ++k) {
                std::vector<float> row;
                for (std::size_t l = i - 2; l <= i + 2; ++l) row.push_back(a(k, l));
                column.push_back(median5(row));
            }
            CHECK(m(j, i) == median5(column));
        }
}

TEST_CASE("growth: 3x3 with the border copied, 5x5 without corners")
{
    la::flags f = xt::zeros<std::uint8_t>({9, 9});
    f(4, 4) = 1;
    f(0, 8) = 1;
    const auto g3 = la::dilate3(f);
    CHECK(std::count(g3.begin(), g3.end(), 1) == 9 + 2);  // the corner pixel and its one interior neighbour
    CHECK(g3(1, 7) == 1);
    CHECK(g3(0, 7) == 0);  // border pixels are not grown into
    la::flags one = xt::zeros<std::uint8_t>({9, 9});
    one(4, 4) = 1;
    const auto g5 = la::dilate5(one, 1);
    CHECK(std::count(g5.begin(), g5.end(), 1) == 21);
    CHECK(g5(2, 2) == 0);
    CHECK(g5(2, 3) == 1);
    const auto twice = la::dilate5(one, 2);
    CHECK(std::count(twice.begin(), twice.end(), 1) == 69);  // a 9x9 box less 3 pixels at each corner
}

TEST_CASE("PSF kernels are centred and sum to one")
{
    for (auto shape : {la::kernel_shape::gauss, la::kernel_shape::gauss_x, la::kernel_shape::moffat}) {
        const auto k = la::psf_kernel(shape, 2.5, 7, 4.765);
        float sum = 0;
        for (float v : k) sum += v;
        CHECK(sum == doctest::Approx(1.0).epsilon(1e-6));
        CHECK(k(3, 3) >= k(3, 2));
        CHECK(k(3, 2) == doctest::Approx(k(3, 4)));
    }
}

// ------------------------------------------------------------------------------------------
// cosmicray_lacosmic

TEST_CASE("L.A.Cosmic finds ccdproc's 30 test hits and nothing away from them")
{
    auto [img, hits] = noisy_with_hits(100, 0.0, scale, 30, 125);
    ccdx::lacosmic_options o;
    o.sigclip = 5.9;
    o.gain_apply = false;
    const auto out = ccdx::cosmicray_lacosmic(img, o);
    CHECK(all_marked(out, hits));
    // A neighbour a little above the noise may join a hit (the sigfrac growth), nothing else.
    CHECK(only_near(out, hits));
    CHECK(count_bits(out, ccdx::mask_bits::cosmic_ray) <= 33);
    // Pixels that are not hits keep their values exactly; hits are cleaned to near the noise.
    for (std::size_t i = 0; i < img.size(); ++i)
        if (out.mask().data()[i] == 0) REQUIRE(out.data().data()[i] == img.data().data()[i]);
    for (const auto& [y, x] : hits) CHECK(std::abs(out.data()(y, x)) < 5 * scale);
}

TEST_CASE("L.A.Cosmic cleans a hit with the mean of its good 5x5 neighbours")
{
    for (auto how : {ccdx::lacosmic_clean::meanmask, ccdx::lacosmic_clean::medmask, ccdx::lacosmic_clean::median,
                     ccdx::lacosmic_clean::idw}) {
        auto img = flat(40, 40, 100.0);
        img.data()(20, 20) = 1000.0;
        ccdx::lacosmic_options o;
        o.cleantype = how;
        o.gain_apply = false;
        const auto out = ccdx::cosmicray_lacosmic(img, o);
        CHECK(count_bits(out, ccdx::mask_bits::all) == 1);
        CHECK(out.mask()(20, 20) == ccdx::mask_bits::cosmic_ray);
        CHECK(out.data()(20, 20) == doctest::Approx(100.0));
    }
}

TEST_CASE("L.A.Cosmic variants (full medians, matched filter) find the same hit")
{
    auto img = flat(40, 40, 100.0);
    img.data()(12, 25) = 900.0;
    ccdx::lacosmic_options o;
    o.sepmed = false;
    CHECK(count_bits(ccdx::cosmicray_lacosmic(img, o), ccdx::mask_bits::cosmic_ray) == 1);
    o.sepmed = true;
    o.fsmode = ccdx::fine_structure::convolve;
    for (auto model : {ccdx::psf_model::gauss, ccdx::psf_model::gaussx, ccdx::psf_model::gaussy, ccdx::psf_model::moffat}) {
        o.psfmodel = model;
        const auto out = ccdx::cosmicray_lacosmic(img, o);
        CHECK(count_bits(out, ccdx::mask_bits::cosmic_ray) == 1);
        CHECK(out.mask()(12, 25) != 0);
    }
}

TEST_CASE("stars are not hits, saturated or not")
{
    // Sky 200 with noise, a bright star (FWHM 3) and a saturated one with a flat top.
    std::mt19937 rng(11);
    std::normal_distribution<double> noise(0.0, 1.0);
    image<double> img(64, 64, ccdx::unit("adu"));
    const double sigma = 3.0 / 2.3548;
    for (std::size_t y = 0; y < 64; ++y)
        for (std::size_t x = 0; x < 64; ++x) {
            auto star = [&](double cy, double cx, double flux) {
                const double r2 = (double(y) - cy) * (double(y) - cy) + (double(x) - cx) * (double(x) - cx);
                return flux / (2 * M_PI * sigma * sigma) * std::exp(-r2 / (2 * sigma * sigma));
            };
            const double model = 200 + star(20.3, 20.6, 2e4) + star(44.5, 40.2, 3e6);
            img.data()(y, x) = std::min(65535.0, model + std::sqrt(model + 42.25) * noise(rng));
        }
    img.data()(50, 10) += 3000;  // and one hit
    ccdx::lacosmic_options o;
    o.gain_apply = false;
    const auto out = ccdx::cosmicray_lacosmic(img, o);
    CHECK(out.mask()(50, 10) == ccdx::mask_bits::cosmic_ray);
    CHECK(only_near(out, {{50, 10}}));
}

TEST_CASE("pixels under the input mask are never hits")
{
    auto img = flat(40, 40, 100.0);
    img.data()(20, 20) = 1000.0;
    img.data()(10, 10) = 1000.0;
    img.ensure_mask()(10, 11) = ccdx::mask_bits::bad;  // the input mask grows by one pixel
    const auto out = ccdx::cosmicray_lacosmic(img);
    CHECK(out.mask()(20, 20) == ccdx::mask_bits::cosmic_ray);
    CHECK(out.mask()(10, 10) == 0);
    CHECK(out.mask()(10, 11) == ccdx::mask_bits::bad);
}

TEST_CASE("gain_apply turns the image into electrons; without it values and unit stay")
{
    auto [img, hits] = noisy_with_hits(60, 1000.0, 30.0, 5, 5);
    xt::xtensor<double, 2> sigma = xt::xtensor<double, 2>::from_shape({60, 60});
    sigma.fill(30.0);
    img.set_uncertainty(sigma);
    ccdx::lacosmic_options o;
    o.gain = ccdx::quantity(2.0, ccdx::unit("electron / adu"));
    o.readnoise = ccdx::quantity(6.5, ccdx::unit("electron"));
    const auto applied = ccdx::cosmicray_lacosmic(img, o);
    CHECK(applied.unit() == ccdx::unit("electron"));
    CHECK(applied.uncertainty()(0, 0) == 60.0);
    o.gain_apply = false;
    const auto kept = ccdx::cosmicray_lacosmic(img, o);
    CHECK(kept.unit() == ccdx::unit("adu"));
    CHECK(kept.uncertainty()(0, 0) == 30.0);
    CHECK(all_marked(kept, hits));
    for (std::size_t i = 0; i < img.size(); ++i) {
        if (kept.mask().data()[i] != 0) continue;
        REQUIRE(kept.data().data()[i] == img.data().data()[i]);
        REQUIRE(applied.data().data()[i] == 2.0 * img.data().data()[i]);
    }
    // A plain number as gain counts as electron / adu.
    o.gain = 2.0;
    o.gain_apply = true;
    CHECK(ccdx::cosmicray_lacosmic(img, o).unit() == ccdx::unit("electron"));
}

TEST_CASE("L.A.Cosmic checks units and arguments")
{
    auto img = flat(20, 20, 100.0);
    ccdx::lacosmic_options o;
    o.gain = ccdx::quantity(2.0, ccdx::unit("adu / electron"));
    CHECK_THROWS_WITH_AS(ccdx::cosmicray_lacosmic(img, o), doctest::Contains("inconsistent units"), ccdx::unit_error);

    auto electrons = flat(20, 20, 100.0);
    electrons.set_unit(ccdx::unit("electron"));
    ccdx::lacosmic_options twice;
    twice.gain = 2.0;
    // As ccdproc: a warning, and the gain applied anyway (ccdproc gives 200 electron2 / adu here).
    std::vector<std::string> warnings;
    twice.warn = [&](const std::string& m) { warnings.push_back(m); };
    const auto twice_out = ccdx::cosmicray_lacosmic(electrons, twice);
    REQUIRE(warnings.size() == 1);
    CHECK(warnings[0].find("twice") != std::string::npos);
    CHECK(twice_out.data()(3, 3) == doctest::Approx(200));
    CHECK(twice_out.unit() == ccdx::unit("electron2 / adu"));
    CHECK(ccdx::cosmicray_lacosmic(electrons).unit() == ccdx::unit("electron"));  // gain 1: fine

    ccdx::lacosmic_options bad_psf;
    bad_psf.fsmode = ccdx::fine_structure::convolve;
    bad_psf.psfsize = 6;
    CHECK_THROWS_AS(ccdx::cosmicray_lacosmic(img, bad_psf), ccdx::value_error);

    ccdx::lacosmic_options bkg;
    bkg.inbkg = xt::xtensor<float, 2>(xt::zeros<float>({3, 3}));
    CHECK_THROWS_WITH_AS(ccdx::cosmicray_lacosmic(img, bkg), doctest::Contains("inbkg"), ccdx::shape_error);
}

TEST_CASE("a known background is kept out of the detection and back in the result")
{
    auto img = flat(40, 40, 100.0);
    img.data()(20, 20) = 1000.0;
    ccdx::lacosmic_options o;
    o.inbkg = xt::xtensor<float, 2>(xt::zeros<float>({40, 40}) + 100.0f);
    o.gain_apply = false;
    const auto out = ccdx::cosmicray_lacosmic(img, o);
    CHECK(out.mask()(20, 20) == ccdx::mask_bits::cosmic_ray);
    CHECK(out.data()(20, 20) == doctest::Approx(100.0));
}
