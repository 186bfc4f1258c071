#include <doctest/doctest.h>

#include <string>

#include <ccdx/core/section.hpp>

using ccdx::axis_range;
using ccdx::parse_section;
using ccdx::section;

namespace {

std::string section_message(const std::string& text, std::size_t rows, std::size_t cols)
{
    try {
        parse_section(text, rows, cols);
    } catch (const ccdx::section_error& e) {
        return e.what();
    }
    FAIL("no section_error for '" << text << "'");
    return {};
}

}  // namespace

TEST_CASE("1-based inclusive x:y sections become 0-based half-open row and column ranges")
{
    // On a 4 x 5 image (4 rows, 5 columns): '[2:3,1:2]' is columns 2..3 and rows 1..2 (1-based).
    const section s = parse_section("[2:3,1:2]", 4, 5);
    CHECK(s.cols == axis_range{1, 3, false});
    CHECK(s.rows == axis_range{0, 2, false});
    CHECK(s.cols.size() == 2);
    CHECK(s.rows.size() == 2);

    // A real TRIMSEC, with the spaces FITS writers put in.
    const section trim = parse_section("[  17: 528,   1: 520]", 520, 528);
    CHECK(trim.cols == axis_range{16, 528, false});
    CHECK(trim.rows == axis_range{0, 520, false});
    CHECK(trim.cols.size() == 512);

    // ccdproc's trim test: '[20:40,:]' on 50 x 50 keeps 21 columns and every row.
    const section t = parse_section("[20:40,:]", 50, 50);
    CHECK(t.cols == axis_range{19, 40, false});
    CHECK(t.rows == axis_range{0, 50, false});
}

TEST_CASE("wildcards, reversed ranges and single pixels")
{
    CHECK(parse_section("[1:4096, :]", 4100, 4200).rows == axis_range{0, 4100, false});
    CHECK(parse_section("[1:4096, :]", 4100, 4200).cols == axis_range{0, 4096, false});
    CHECK(parse_section("[*,*]", 3, 7) == section{{0, 3, false}, {0, 7, false}});
    CHECK(parse_section("[ * , * ]", 3, 7) == section{{0, 3, false}, {0, 7, false}});

    const section r = parse_section("[3:2,*]", 4, 5);
    CHECK(r.cols == axis_range{1, 3, true});
    CHECK(r.rows == axis_range{0, 4, false});
    CHECK(parse_section("[10:1,*]", 4, 10).cols == axis_range{0, 10, true});

    const section flipped = parse_section("[-*,1:1]", 4, 5);
    CHECK(flipped.cols == axis_range{0, 5, true});
    CHECK(flipped.rows == axis_range{0, 1, false});

    // A single number is that one pixel (not ccdproc's "first n").
    const section pixel = parse_section("[5,*]", 4, 5);
    CHECK(pixel.cols == axis_range{4, 5, false});
    CHECK(pixel.cols.size() == 1);
    CHECK(parse_section("[2,3]", 4, 5) == section{{2, 3, false}, {1, 2, false}});

    // Spaces anywhere are dropped, as ccdproc does: '4 5' is 45.
    CHECK(parse_section("  [ 1  :4 5, 1 : 2 ] ", 2, 45).cols == axis_range{0, 45, false});
}

TEST_CASE("without a shape, explicit ranges parse and wildcards are refused")
{
    CHECK(parse_section("[21:30,1:100]") == section{{0, 100, false}, {20, 30, false}});
    CHECK(parse_section("[30:21,7]") == section{{6, 7, false}, {20, 30, true}});
    CHECK_THROWS_WITH_AS(parse_section("[21:30,*]"), "invalid section '[21:30,*]': '*' needs the image shape",
                         ccdx::section_error);
    CHECK_THROWS_WITH_AS(parse_section("[:,1:2]"), "invalid section '[:,1:2]': ':' needs the image shape",
                         ccdx::section_error);
    CHECK_THROWS_AS(parse_section("[-*,1:2]"), ccdx::section_error);
}

TEST_CASE("to_string prints [x1:x2,y1:y2], 1-based inclusive, and round-trips")
{
    CHECK(to_string(section{{0, 520, false}, {16, 528, false}}) == "[17:528,1:520]");
    CHECK(to_string(section{{0, 4, false}, {1, 3, true}}) == "[3:2,1:4]");
    CHECK(to_string(section{{4, 5, false}, {0, 1, false}}) == "[1:1,5:5]");
    for (const char* text : {"[17:528,1:520]", "[3:2,1:4]", "[1:1,5:5]", "[40:20,9:10]"}) {
        CAPTURE(text);
        CHECK(to_string(parse_section(text, 520, 528)) == text);
    }
}

TEST_CASE("a one-axis section is refused with a clear message")
{
    CHECK(section_message("[4096:4109]", 4200, 4200) ==
          "invalid section '[4096:4109]': one axis given, but a section names two: [x1:x2,y1:y2]");
    CHECK_THROWS_AS(parse_section("[4096:4109]"), ccdx::section_error);
}

TEST_CASE("an index outside the image names the string and the shape")
{
    CHECK(section_message("[1:10,1:2]", 4, 5) ==
          "invalid section '[1:10,1:2]': index 10 is outside the image of shape (4, 5)");
    CHECK(section_message("[1:5,1:5]", 4, 5) ==
          "invalid section '[1:5,1:5]': index 5 is outside the image of shape (4, 5)");
    CHECK(section_message("[6,*]", 4, 5) == "invalid section '[6,*]': index 6 is outside the image of shape (4, 5)");
    CHECK_NOTHROW(parse_section("[5,4]", 4, 5));
}

TEST_CASE("malformed sections throw section_error naming the string")
{
    CHECK(section_message("1:2,3:4", 10, 10) == "invalid section '1:2,3:4': expected [x1:x2,y1:y2]");
    CHECK(section_message("[0:2,1:2]", 10, 10) == "invalid section '[0:2,1:2]': FITS pixel indices start at 1");
    CHECK(section_message("[1:10:2,1:2]", 10, 10) == "invalid section '[1:10:2,1:2]': steps are not supported");
    CHECK(section_message("[a:b,1:2]", 10, 10) == "invalid section '[a:b,1:2]': 'a' is not a pixel index");
    CHECK(section_message("[1:2,3:4,5:6]", 10, 10) ==
          "invalid section '[1:2,3:4,5:6]': more than two axes given, but a section names two: [x1:x2,y1:y2]");

    for (const char* text : {"", " ", "[", "]", "[]", "[,]", "[1:2,]", "[,1:2]", "[1:,1:2]", "[:2,1:2]", "[-1:2,1:2]",
                             "[1:-2,1:2]", "[+1:2,1:2]", "[1.5:2,1:2]", "[1:2,1:2", "1:2,1:2]", "(1:2,1:2)",
                             "[1:2;1:2]", "[**,1:2]", "[*:2,1:2]", "[-*:2,1:2]", "[1::2,1:2]",
                             "[99999999999999999999999:1,1:1]", "[1:2,1:2]x"}) {
        CAPTURE(text);
        const std::string message = section_message(text, 10, 10);
        CHECK(message.find(std::string("'") + text + "'") != std::string::npos);
    }
}
