// The ccd_data fixture against numpy: the values below were printed by numpy's legacy
// RandomState (NumpyRNGContext(123), np.random.normal), an independent reference.
#include <doctest/doctest.h>

#include <cstdint>
#include <string>

#include "fixtures.hpp"

using ccdproc_fixtures::ccd_data;

TEST_CASE("ccd_data fixture reproduces numpy's seeded normal draws")
{
    const auto ccd = ccd_data();
    REQUIRE(ccd.rows() == 100);
    REQUIRE(ccd.cols() == 100);
    // numpy: np.random.normal(0, 1, size=[100, 100]) under seed 123.
    CHECK(ccd.data()(0, 0) == -1.0856306033005612);
    CHECK(ccd.data()(0, 1) == 0.9973454465835858);
    CHECK(ccd.data()(0, 2) == 0.28297849805199204);
    CHECK(ccd.data()(1, 0) == 0.6420546892718314);
    CHECK(ccd.data()(99, 99) == 0.970612862753198);
    double sum = 0;
    for (std::size_t i = 0; i < ccd.size(); ++i) sum += ccd.data().data()[i];
    CHECK(sum / double(ccd.size()) == doctest::Approx(0.009711892291595955).epsilon(1e-12));
    CHECK(ccd.unit() == ccdx::unit("adu"));
    CHECK(ccd.header().value<std::int64_t>("my_key") == 42);
    CHECK(ccd.header().value<std::string>("your_key") == "not 42");
}

TEST_CASE("ccd_data fixture applies mean and scale as numpy's loc + scale * gauss")
{
    // numpy: np.random.normal(5, 2.5, size=[3, 3]) under seed 123.
    const auto ccd = ccd_data(3, 2.5, 5.0);
    CHECK(ccd.data()(0, 0) == doctest::Approx(2.285923491748597).epsilon(1e-15));
    CHECK(ccd.data()(2, 2) == doctest::Approx(8.164840646763835).epsilon(1e-15));
}
