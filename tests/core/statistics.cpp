#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <vector>

#include <ccdx/core/statistics.hpp>

namespace {

const double not_a_number = std::numeric_limits<double>::quiet_NaN();
const double infinity = std::numeric_limits<double>::infinity();

ccdx::image<double> row_image(const std::vector<double>& values)
{
    ccdx::image<double> img(1, values.size());
    for (std::size_t i = 0; i < values.size(); ++i) img.data()(0, i) = values[i];
    return img;
}

}  // namespace

TEST_CASE("median of odd and even counts, NaN skipped")
{
    const std::vector<double> odd{5, 1, 3};
    CHECK(ccdx::median(odd.begin(), odd.end()) == 3);
    const std::vector<double> even{1, 2, 3, 10};
    CHECK(ccdx::median(even.begin(), even.end()) == 2.5);  // mean of the two middle values
    const std::vector<float> with_nan{4.f, static_cast<float>(not_a_number), 2.f};
    CHECK(ccdx::median(with_nan.begin(), with_nan.end()) == 3);
    CHECK(with_nan[0] == 4.f);  // the range itself is not reordered
    const std::vector<double> none;
    CHECK(std::isnan(ccdx::median(none.begin(), none.end())));
}

TEST_CASE("mean and mad_std of a hand-checked set")
{
    // Sorted: 1 2 2 3 3 4 4 5 6 100 -> median 3.5; |x - 3.5| has median 1.5.
    const std::vector<double> x{1, 2, 3, 4, 100, 5, 6, not_a_number, 3, 4, 2};
    CHECK(ccdx::mean(x.begin(), x.end()) == doctest::Approx(13.0));
    CHECK(ccdx::mad_std(x.begin(), x.end()) == doctest::Approx(1.482602218505602 * 1.5));

    const auto img = row_image(x);
    CHECK(ccdx::mean(img) == doctest::Approx(13.0));
    CHECK(ccdx::median(img) == 3.5);
    CHECK(ccdx::mad_std(img) == doctest::Approx(1.482602218505602 * 1.5));
}

TEST_CASE("masked pixels are skipped only when asked")
{
    auto img = row_image({1, 2, 3, 1000});
    img.ensure_mask()(0, 3) = 1;
    CHECK(ccdx::mean(img) == doctest::Approx(1006.0 / 4));
    CHECK(ccdx::mean(img, true) == doctest::Approx(2.0));
    CHECK(ccdx::median(img) == 2.5);
    CHECK(ccdx::median(img, true) == 2.0);
    CHECK(ccdx::stddev(img, true) == doctest::Approx(std::sqrt(2.0 / 3.0)));
}

TEST_CASE("sigma_clipped_stats drops an outlier and converges")
{
    // First pass: median 3.5, the standard deviation ~29 puts 100 outside 3 sigma.
    // The nine values left (1 2 2 3 3 4 4 5 6) all sit within 3 sigma of their median 3.
    const auto img = row_image({1, 2, 3, 4, 100, 5, 6, not_a_number, 3, 4, 2});
    const auto s = ccdx::sigma_clipped_stats(img);
    CHECK(s.count == 9);
    CHECK(s.mean == doctest::Approx(30.0 / 9));
    CHECK(s.median == 3.0);
    // sum of squares 120 over 9 values, minus the squared mean (10/3)^2
    CHECK(s.stddev == doctest::Approx(std::sqrt(120.0 / 9 - 100.0 / 9)));
}

TEST_CASE("sigma_clipped_stats: one pass versus iterating")
{
    // -50, 2..19, 1000 (astropy gives (7.3158, 10, 14.4224) for one pass, (10.5, 10.5, 5.1881) to convergence)
    std::vector<double> y;
    y.push_back(-50);
    for (int i = 2; i <= 19; ++i) y.push_back(i);
    y.push_back(1000);
    const auto img = row_image(y);

    const auto one = ccdx::sigma_clipped_stats(img, 3, 1);
    CHECK(one.count == 19);  // only 1000 goes in the first pass
    CHECK(one.mean == doctest::Approx((189.0 - 50) / 19));
    CHECK(one.median == 10.0);

    const auto all = ccdx::sigma_clipped_stats(img);
    CHECK(all.count == 18);  // -50 goes in the second
    CHECK(all.mean == doctest::Approx(10.5));
    CHECK(all.median == 10.5);
    // population standard deviation of 2..19: sqrt((18^2 - 1) / 12)
    CHECK(all.stddev == doctest::Approx(std::sqrt(323.0 / 12)));
}

TEST_CASE("sigma_clipped_stats leaves out infinities and masked pixels")
{
    auto img = row_image({1, 2, 3, infinity, -infinity, 500});
    img.ensure_mask()(0, 5) = 4;
    const auto s = ccdx::sigma_clipped_stats(img);
    CHECK(s.count == 3);
    CHECK(s.mean == doctest::Approx(2.0));
    const auto unmasked = ccdx::sigma_clipped_stats(img, 3, 5, false);
    CHECK(unmasked.count == 4);  // 500 alone cannot be clipped among four values at 3 sigma
}

TEST_CASE("statistics of nothing are NaN")
{
    auto img = row_image({not_a_number, not_a_number});
    CHECK(std::isnan(ccdx::mean(img)));
    CHECK(std::isnan(ccdx::median(img)));
    CHECK(std::isnan(ccdx::mad_std(img)));
    const auto s = ccdx::sigma_clipped_stats(img);
    CHECK(s.count == 0);
    CHECK(std::isnan(s.mean));
}
