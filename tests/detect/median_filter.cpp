#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <random>
#include <vector>

#include <xtensor/xtensor.hpp>

#include "ccdx/detect/median_filter.hpp"

namespace {

// Independent reference: reflect each index by walking the mirror, copy the window, sort it.
std::ptrdiff_t mirror(std::ptrdiff_t i, std::ptrdiff_t n)
{
    while (i < 0 || i >= n) i = i < 0 ? -i - 1 : 2 * n - i - 1;
    return i;
}

template <class T>
xt::xtensor<T, 2> brute_rank(const xt::xtensor<T, 2>& in, std::size_t rank, std::size_t rows, std::size_t cols)
{
    const auto ny = static_cast<std::ptrdiff_t>(in.shape()[0]), nx = static_cast<std::ptrdiff_t>(in.shape()[1]);
    xt::xtensor<T, 2> out = xt::xtensor<T, 2>::from_shape(in.shape());
    std::vector<T> w;
    for (std::ptrdiff_t y = 0; y < ny; ++y)
        for (std::ptrdiff_t x = 0; x < nx; ++x) {
            w.clear();
            for (std::ptrdiff_t i = 0; i < static_cast<std::ptrdiff_t>(rows); ++i)
                for (std::ptrdiff_t j = 0; j < static_cast<std::ptrdiff_t>(cols); ++j)
                    w.push_back(in(mirror(y + i - static_cast<std::ptrdiff_t>(rows / 2), ny),
                                   mirror(x + j - static_cast<std::ptrdiff_t>(cols / 2), nx)));
            std::sort(w.begin(), w.end());
            out(y, x) = w[rank];
        }
    return out;
}

template <class T>
xt::xtensor<T, 2> random_image(std::size_t ny, std::size_t nx, unsigned seed, int levels = 0)
{
    std::mt19937 rng(seed);
    std::normal_distribution<double> normal(100.0, 10.0);
    std::uniform_int_distribution<int> level(0, std::max(levels - 1, 0));
    xt::xtensor<T, 2> a = xt::xtensor<T, 2>::from_shape({ny, nx});
    for (auto& v : a) v = levels > 0 ? static_cast<T>(level(rng)) : static_cast<T>(normal(rng));
    return a;
}

template <class T>
bool same(const xt::xtensor<T, 2>& a, const xt::xtensor<T, 2>& b)
{
    return a.shape() == b.shape() && std::equal(a.begin(), a.end(), b.begin());
}

}  // namespace

TEST_CASE("median of a hand-computed 3x3 case with reflected edges")
{
    // scipy.ndimage.median_filter(a, size=3) with mode='reflect' gives this.
    xt::xtensor<double, 2> a{{1, 2, 3}, {4, 5, 6}, {7, 8, 9}};
    // Corner (0,0): window rows {0,0,1} x cols {0,0,1} = 1 1 2 / 1 1 2 / 4 4 5 -> sorted 1 1 1 1 2 2 4 4 5 -> 2
    // Centre: 5. Edge (0,1): rows {0,0,1} x cols {0,1,2} = 1 2 3 1 2 3 4 5 6 -> 3
    const auto m = ccdx::median_filter(a, 3);
    CHECK(m(0, 0) == 2);
    CHECK(m(0, 1) == 3);
    CHECK(m(1, 1) == 5);
    CHECK(m(2, 2) == 8);
}

TEST_CASE("even windows reach further before the centre and take the upper middle value")
{
    xt::xtensor<double, 2> a{{1, 2, 3, 4, 5}};
    // size (1,2): window [x-1, x]; edge reflects x=-1 to 0. rank 1 of 2 = the larger.
    const auto m = ccdx::median_filter(a, 1, 2);
    CHECK(m(0, 0) == 1);
    CHECK(m(0, 1) == 2);
    CHECK(m(0, 4) == 5);
}

TEST_CASE("median_filter equals brute force on random data, every shape and window")
{
    const std::size_t shapes[][2] = {{1, 1}, {1, 17}, {23, 1}, {5, 7}, {37, 53}, {70, 131}};
    const std::size_t windows[][2] = {{1, 1}, {3, 3}, {5, 5}, {11, 11}, {7, 3}, {2, 4}, {15, 15}, {1, 9}};
    unsigned seed = 1;
    for (const auto& s : shapes)
        for (const auto& w : windows) {
            CAPTURE(s[0]);
            CAPTURE(s[1]);
            CAPTURE(w[0]);
            CAPTURE(w[1]);
            const auto img = random_image<float>(s[0], s[1], seed++);
            CHECK(same(ccdx::median_filter(img, w[0], w[1]), brute_rank(img, w[0] * w[1] / 2, w[0], w[1])));
        }
}

TEST_CASE("windows larger than the image reflect repeatedly")
{
    const auto img = random_image<double>(3, 4, 7);
    CHECK(same(ccdx::median_filter(img, 9, 11), brute_rank(img, 49, 9, 11)));
}

TEST_CASE("ties, every rank, and double precision")
{
    const auto img = random_image<double>(19, 29, 11, 4);  // values 0..3: many ties
    for (std::size_t rank = 0; rank < 15; ++rank) {
        CAPTURE(rank);
        CHECK(same(ccdx::rank_filter(img, rank, 3, 5), brute_rank(img, rank, 3, 5)));
    }
}

TEST_CASE("larger images cross tile boundaries")
{
    const auto img = random_image<float>(150, 300, 3);
    CHECK(same(ccdx::median_filter(img, 11), brute_rank(img, 60, 11, 11)));
}

TEST_CASE("percentile_filter takes the order statistic floor(count * p / 100)")
{
    const auto img = random_image<float>(40, 33, 5);
    // 15 x 15 = 225: 69.1 % -> rank 155, 30.9 % -> rank 69 (ccdmask's pair)
    CHECK(same(ccdx::percentile_filter(img, 69.1, 15, 15), brute_rank(img, 155, 15, 15)));
    CHECK(same(ccdx::percentile_filter(img, 30.9, 15, 15), brute_rank(img, 69, 15, 15)));
    CHECK(same(ccdx::percentile_filter(img, 100.0, 3, 3), brute_rank(img, 8, 3, 3)));
    CHECK(same(ccdx::percentile_filter(img, -50.0, 3, 3), brute_rank(img, 4, 3, 3)));
}

TEST_CASE("NaN sorts above every number")
{
    xt::xtensor<float, 2> a{{1, NAN, 3}};
    const auto m = ccdx::median_filter(a, 1, 3);  // windows {1,1,nan} {1,nan,3} {nan,3,3}
    CHECK(m(0, 0) == 1);
    CHECK(m(0, 1) == 3);
    CHECK(m(0, 2) == 3);
    CHECK(std::isnan(ccdx::rank_filter(a, 2, 1, 3)(0, 1)));
}

TEST_CASE("bad windows are rejected")
{
    xt::xtensor<float, 2> a{{1, 2}, {3, 4}};
    CHECK_THROWS_AS(ccdx::median_filter(a, 0, 3), ccdx::value_error);
    CHECK_THROWS_WITH_AS(ccdx::rank_filter(a, 9, 3, 3), doctest::Contains("3x3"), ccdx::value_error);
    CHECK_THROWS_AS(ccdx::percentile_filter(a, 101.0, 3, 3), ccdx::value_error);
    xt::xtensor<float, 2> empty = xt::xtensor<float, 2>::from_shape({0, 5});
    CHECK(ccdx::median_filter(empty, 3).size() == 0);
}
