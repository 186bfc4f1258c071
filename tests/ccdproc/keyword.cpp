// ccdproc's test_keyword.py. ccdproc's Keyword is ccdx's from_header: a keyword and a unit,
// the value read from a header when a step needs it.
#include <doctest/doctest.h>

#include <cstdint>
#include <string>

#include <ccdx/ccdx.hpp>
#include <ccdx/reduce/calibrate.hpp>

using ccdx::from_header;
using ccdx::quantity;
using ccdx::unit;

TEST_CASE("test_keyword_init")
{
    const from_header key{"some_key", unit("s")};
    CHECK(key.keyword == "some_key");
    CHECK(key.unit == unit("s"));
}

TEST_CASE("test_keyword_value_from_header")
{
    ccdx::header h;
    h.set("exposure", std::int64_t{30});
    const from_header key{"exposure", unit("s")};
    const quantity v = key.in(h);
    CHECK(v.value == 30);
    CHECK(v.unit == unit("s"));
    // A missing keyword is an error rather than a value.
    const from_header missing{"nothere", unit("s")};
    CHECK_THROWS_AS(missing.in(h), ccdx::keyword_error);
}
