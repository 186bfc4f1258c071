#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <sstream>

#include <ccdx/core/quantity.hpp>

using ccdx::quantity;
using ccdx::unit;

TEST_CASE("a quantity holds a value and a unit")
{
    const quantity gain(1.5, unit("electron/adu"));
    CHECK(gain.value == 1.5);
    CHECK(gain.unit == unit("electron / adu"));
    const quantity plain(2.0);
    CHECK(plain.unit.is_dimensionless());
}

TEST_CASE("conversion to another unit scales the value")
{
    const quantity t = quantity(2, unit("min")).to(unit("s"));
    CHECK(t.value == 120.0);
    CHECK(t.unit == unit("s"));
    CHECK(quantity(90, unit("s")).to(unit("min")).value == 1.5);
    CHECK(quantity(1, unit("adu / min")).to(unit("adu / s")).value == doctest::Approx(1.0 / 60).epsilon(1e-15));
    CHECK_THROWS_WITH_AS(quantity(3, unit("adu")).to(unit("electron")), "cannot convert 'adu' to 'electron'",
                         ccdx::unit_error);
}

TEST_CASE("arithmetic multiplies values and combines units")
{
    const quantity counts(300, unit("adu"));
    const quantity gain(1.5, unit("electron/adu"));
    const quantity exposure(60, unit("s"));

    const quantity electrons = counts * gain;
    CHECK(electrons.value == 450.0);
    CHECK(electrons.unit == unit("electron"));

    const quantity rate = electrons / exposure;
    CHECK(rate.value == 7.5);
    CHECK(rate.unit.to_string() == "electron / s");

    CHECK((gain * 2.0).value == 3.0);
    CHECK((2.0 * gain).unit == gain.unit);
    CHECK((gain / 3.0).value == 0.5);
    const quantity inverse = 3.0 / gain;
    CHECK(inverse.value == 2.0);
    CHECK(inverse.unit.to_string() == "adu / electron");
}

TEST_CASE("to_string prints the shortest value that reads back, then the unit")
{
    CHECK(to_string(quantity(1.5, unit("electron/adu"))) == "1.5 electron / adu");
    CHECK(to_string(quantity(0.3)) == "0.3");
    CHECK(to_string(quantity(90, unit("s"))) == "90 s");
    CHECK(to_string(quantity(0.1 + 0.2)) == "0.30000000000000004");
    CHECK(to_string(quantity(1.0 / 3)) == "0.3333333333333333");
    CHECK(to_string(quantity(-2.5, unit("adu"))) == "-2.5 adu");
    CHECK(to_string(quantity(123456.789)) == "123456.789");
    CHECK(to_string(quantity(1234567890123456.0)) == "1234567890123456");
    CHECK(to_string(quantity(0.0001)) == "0.0001");
    CHECK(to_string(quantity(1e-5)) == "1e-05");
    CHECK(to_string(quantity(1e16)) == "1e+16");
    CHECK(to_string(quantity(1.25e22)) == "1.25e+22");
    CHECK(to_string(quantity(6.02e-300)) == "6.02e-300");
    CHECK(to_string(quantity(0.0)) == "0");
    CHECK(to_string(quantity(std::numeric_limits<double>::infinity())) == "inf");
    CHECK(to_string(quantity(-std::numeric_limits<double>::infinity())) == "-inf");
    CHECK(to_string(quantity(std::nan(""))) == "nan");

    std::ostringstream os;
    os << quantity(2, unit("count / s"));
    CHECK(os.str() == "2 ct / s");
}
