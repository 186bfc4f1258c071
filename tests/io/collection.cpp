#include <doctest/doctest.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <ccdx/io/collection.hpp>

namespace fs = std::filesystem;

namespace {

// A minimal FITS file written byte by byte: 2 x 3 pixels of BITPIX 16 holding `level`, and the
// given cards (already formatted as `KEYWORD = value` text, padded here to 80 characters).
void write_tiny_fits(const fs::path& path, const std::vector<std::string>& cards, std::int16_t level = 7)
{
    std::string h;
    const auto card = [&h](std::string text) {
        text.resize(80, ' ');
        h += text;
    };
    card("SIMPLE  =                    T");
    card("BITPIX  =                   16");
    card("NAXIS   =                    2");
    card("NAXIS1  =                    3");
    card("NAXIS2  =                    2");
    for (const auto& c : cards) card(c);
    card("END");
    h.resize((h.size() + 2879) / 2880 * 2880, ' ');
    std::string data(2880, '\0');
    for (int i = 0; i < 6; ++i) {
        data[2 * i] = static_cast<char>((level >> 8) & 0xFF);
        data[2 * i + 1] = static_cast<char>(level & 0xFF);
    }
    std::ofstream(path, std::ios::binary) << h << data;
}

std::string kw(const std::string& key, const std::string& value)
{
    std::string k = key;
    k.resize(8, ' ');
    return k + "= " + value;
}

// The night: mixed frame types, a keyword missing here and there, a HIERARCH key, odd file
// endings, and junk that must be skipped without stopping the collection.
fs::path make_night()
{
    const fs::path dir = fs::temp_directory_path() / "ccdx_test_collection" / "night";
    fs::remove_all(dir);
    fs::create_directories(dir);
    write_tiny_fits(dir / "bias1.fits", {kw("IMAGETYP", "'BIAS    '"), kw("EXPOSURE", "0.0"), "COMMENT first note",
                                         "HISTORY made by hand", "HISTORY twice"});
    write_tiny_fits(dir / "light1.fits", {kw("IMAGETYP", "'LIGHT   '"), kw("FILTER", "'R       '"), kw("EXPOSURE", "90.0"),
                                          kw("OBJECT", "'m13     '"), "HIERARCH A B = 2"});
    write_tiny_fits(dir / "light2.fit", {kw("IMAGETYP", "'light   '"), kw("FILTER", "'V       '"), kw("EXPOSURE", "90"),
                                         kw("OBJECT", "'M13     '")});
    write_tiny_fits(dir / "light3.FITS", {kw("IMAGETYP", "'LIGHT   '"), kw("FILTER", "'r       '"), kw("EXPOSURE", "15.0"),
                                          kw("OBJECT", "'NGC 6946, field'")});
    write_tiny_fits(dir / "flat1.fts", {kw("IMAGETYP", "'FLAT    '"), kw("FILTER", "'R       '"), kw("EXPOSURE", "1.0"),
                                        kw("OBJECT", "'90      '")});
    write_tiny_fits(dir / "noext", {kw("IMAGETYP", "'DARK    '"), kw("EXPOSURE", "30.0")});
    std::ofstream(dir / "junk.fits") << "this is not a FITS file\n";
    std::ofstream(dir / "empty.fit");
    std::ofstream(dir / "notes.txt") << "observing log\n";
    return dir;
}

struct quiet {
    std::vector<std::string> messages;
    ccdx::collection_options options()
    {
        ccdx::collection_options o;
        o.warn = [this](const std::string& m) { messages.push_back(m); };
        return o;
    }
};

std::vector<std::string> names(const ccdx::image_collection& c) { return c.files(); }

}  // namespace

TEST_CASE("glob patterns match whole names")
{
    using ccdx::detail::collection::glob_match;
    CHECK(glob_match("*.fits", "a.fits"));
    CHECK_FALSE(glob_match("*.fits", "a.fits.gz"));
    CHECK(glob_match("light?.fit*", "light2.fit"));
    CHECK(glob_match("light[13].*", "light3.FITS"));
    CHECK_FALSE(glob_match("light[13].*", "light2.fit"));
    CHECK(glob_match("light[!13].*", "light2.fit"));
    CHECK(glob_match("[a-c]*", "bias1.fits"));
    CHECK_FALSE(glob_match("[d-z]*", "bias1.fits"));
    CHECK(glob_match("*", ""));
    CHECK(glob_match("a*b*c", "aXbYbZc"));
    CHECK_FALSE(glob_match("a*b*c", "aXbYbZ"));
    CHECK(glob_match("x[y", "x[y"));  // an unclosed bracket is literal
}

TEST_CASE("FITS files are found by their endings, junk is skipped with a warning naming it")
{
    const auto dir = make_night();
    quiet q;
    const ccdx::image_collection night(dir, q.options());
    CHECK(names(night) == std::vector<std::string>{"bias1.fits", "flat1.fts", "light1.fits", "light2.fit", "light3.FITS"});
    REQUIRE(night.skipped().size() == 2);
    CHECK(night.skipped()[0].first == "empty.fit");
    CHECK(night.skipped()[1].first == "junk.fits");
    REQUIRE(q.messages.size() == 2);
    CHECK(q.messages[0].find("empty.fit") != std::string::npos);
    CHECK(q.messages[1].find("junk.fits") != std::string::npos);
    CHECK(night.paths()[0] == dir / "bias1.fits");
    CHECK(night.location() == dir);
}

TEST_CASE("the search can be narrowed by globs, by other endings, or done by reading")
{
    const auto dir = make_night();
    quiet q;
    auto o = q.options();
    o.include = {"light*"};
    o.exclude = {"*.fit"};
    CHECK(names(ccdx::image_collection(dir, o)) == std::vector<std::string>{"light1.fits", "light3.FITS"});

    o = q.options();
    o.extensions = {".fts"};
    CHECK(names(ccdx::image_collection(dir, o)) == std::vector<std::string>{"flat1.fts"});

    o = q.options();
    o.find_by_reading = true;
    q.messages.clear();
    const ccdx::image_collection read(dir, o);
    CHECK(names(read) ==
          std::vector<std::string>{"bias1.fits", "flat1.fts", "light1.fits", "light2.fit", "light3.FITS", "noext"});
    CHECK(q.messages.empty());  // junk does not look like FITS, so it is not even tried
}

TEST_CASE("files compressed as a whole count: gzip, bzip2 and Unix compress endings, or their first bytes")
{
    const fs::path dir = fs::temp_directory_path() / "ccdx_test_collection" / "packed";
    fs::remove_all(dir);
    fs::create_directories(dir);
    const fs::path bz2 = fs::path(CCDX_TEST_DATA_DIR) / "fits_robustness" / "wasp-10-tiny.fit.bz2";
    fs::copy_file(bz2, dir / "wasp.fits.bz2");
    fs::copy_file(bz2, dir / "wasp_by_content");
    std::ofstream(dir / "broken.fit.Z") << "not compressed at all\n";
    quiet q;
    const ccdx::image_collection c(dir, q.options());
    CHECK(names(c) == std::vector<std::string>{"wasp.fits.bz2"});
    CHECK(c.summary({"naxis1"}).rows()[0][1] == "4096");  // the header was read through bzip2
    REQUIRE(c.skipped().size() == 1);                       // a .Z ending is tried, and this one fails
    CHECK(c.skipped()[0].first == "broken.fit.Z");

    // By reading, bzip2 is recognised by its first bytes; cfitsio inflates it only under a .bz2
    // name, so the copy without one is tried and skipped with a warning.
    auto o = q.options();
    o.find_by_reading = true;
    const ccdx::image_collection by_reading(dir, o);
    CHECK(names(by_reading) == std::vector<std::string>{"wasp.fits.bz2"});
    REQUIRE(by_reading.skipped().size() == 1);
    CHECK(by_reading.skipped()[0].first == "wasp_by_content");
}

TEST_CASE("a missing folder, or one without readable FITS files, is an error")
{
    const auto base = fs::temp_directory_path() / "ccdx_test_collection";
    fs::create_directories(base / "empty");
    fs::remove_all(base / "only-junk");
    fs::create_directories(base / "only-junk");
    std::ofstream(base / "only-junk" / "bad.fits") << "nope";
    quiet q;
    CHECK_THROWS_WITH_AS(ccdx::image_collection(base / "no-such-folder", q.options()), doctest::Contains("no-such-folder"),
                         ccdx::fits_error);
    CHECK_THROWS_WITH_AS(ccdx::image_collection(base / "empty", q.options()), doctest::Contains("no readable FITS"),
                         ccdx::fits_error);
    CHECK_THROWS_AS(ccdx::image_collection(base / "only-junk", q.options()), ccdx::fits_error);
    CHECK(q.messages.size() == 1);
}

TEST_CASE("filters: case-insensitive keywords and strings, numbers by value, any value, missing, regex")
{
    quiet q;
    const ccdx::image_collection night(make_night(), q.options());
    CHECK(names(night.filter({{"imagetyp", "light"}})) ==
          std::vector<std::string>{"light1.fits", "light2.fit", "light3.FITS"});
    CHECK(names(night.filter({{"IMAGETYP", "Light"}, {"Filter", "r"}})) ==
          std::vector<std::string>{"light1.fits", "light3.FITS"});
    CHECK(names(night.filter({{"exposure", 90}})) == std::vector<std::string>{"light1.fits", "light2.fit"});
    CHECK(names(night.filter({{"exposure", 90.0}})).size() == 2);
    CHECK(night.filter({{"exposure", "90"}}).empty());  // a string never matches a number card
    CHECK(names(night.filter({{"object", 90}})).empty());  // nor a number a string card
    CHECK(names(night.filter({{"object", "90"}})) == std::vector<std::string>{"flat1.fts"});
    CHECK(names(night.filter({{"filter", "*"}})).size() == 4);
    CHECK(names(night.filter({ccdx::keyword_match::missing("filter")})) == std::vector<std::string>{"bias1.fits"});
    CHECK(names(night.filter({ccdx::keyword_match::regex("object", "^m1")})) ==
          std::vector<std::string>{"light1.fits", "light2.fit"});
    CHECK(names(night.filter({ccdx::keyword_match::regex("imagetyp", "li.*t|bias")})).size() == 4);
    CHECK(names(night.filter({{"a b", 2}})) == std::vector<std::string>{"light1.fits"});
    CHECK(names(night.filter({{"object", "NGC 6946, FIELD"}})) == std::vector<std::string>{"light3.FITS"});
    CHECK(night.filter({{"object", "ngc"}}).empty());  // whole value, not a substring
    CHECK(night.filter({{"imagetyp", "light"}}).filter({{"imagetyp", "bias"}}).empty());
    CHECK_THROWS_AS(ccdx::keyword_match::regex("object", "(unclosed"), ccdx::value_error);
    // Hostile patterns: a backtracking matcher needs 2^40 steps for this one, and deep nesting
    // or great length is refused rather than recursed into.
    ccdx::header h;
    h.set("OBJECT", std::string(40, 'a'));
    CHECK_FALSE(ccdx::keyword_match::regex("object", "(a+)+b")(h));
    CHECK(ccdx::keyword_match::regex("object", "^(a+)+$")(h));
    CHECK_THROWS_AS(ccdx::keyword_match::regex("object", std::string(2000, '(') + std::string(2000, ')')),
                    ccdx::value_error);
    CHECK(night.size() == 5);  // filtering leaves the collection as it was
}

TEST_CASE("conditions typed as text, and their opposites")
{
    quiet q;
    const ccdx::image_collection night(make_night(), q.options());
    using ccdx::keyword_match;
    CHECK(names(night.filter({keyword_match::from_text("exposure", "90")})) ==
          std::vector<std::string>{"light1.fits", "light2.fit"});
    CHECK(names(night.filter({keyword_match::from_text("exposure", " 9e1 ")})).size() == 2);
    CHECK(names(night.filter({keyword_match::from_text("object", "90")})) == std::vector<std::string>{"flat1.fts"});
    CHECK(names(night.filter({keyword_match::from_text("imagetyp", "LIGHT")})).size() == 3);
    CHECK(names(night.filter({keyword_match::from_text("filter", "*")})).size() == 4);
    // The opposite keeps everything the condition leaves out, files without the keyword too.
    const auto not_light = night.filter({!keyword_match::from_text("imagetyp", "light")});
    CHECK(names(not_light) == std::vector<std::string>{"bias1.fits", "flat1.fts"});
    CHECK(names(night.filter({!keyword_match::from_text("filter", "r")})) ==
          std::vector<std::string>{"bias1.fits", "light2.fit"});
    CHECK(names(night.filter({!!keyword_match::from_text("filter", "r")})) ==
          std::vector<std::string>{"flat1.fts", "light1.fits", "light3.FITS"});
    CHECK(names(night.filter({!keyword_match::missing("filter")})).size() == 4);
}

TEST_CASE("values, sorting and refresh")
{
    const auto dir = make_night();
    quiet q;
    ccdx::image_collection night(dir, q.options());
    const auto types = night.values("imagetyp", true);
    REQUIRE(types.size() == 4);
    CHECK(std::get<std::string>(types[0]) == "BIAS");
    CHECK(std::get<std::string>(types[1]) == "FLAT");
    CHECK(std::get<std::string>(types[2]) == "LIGHT");
    CHECK(std::get<std::string>(types[3]) == "light");
    const auto filters = night.values("filter");
    REQUIRE(filters.size() == 5);
    CHECK(std::holds_alternative<std::monostate>(filters[0]));

    night.sort({"exposure"});
    CHECK(names(night) == std::vector<std::string>{"bias1.fits", "flat1.fts", "light3.FITS", "light1.fits", "light2.fit"});
    night.sort({"filter", "object"});  // missing last; strings in byte order
    CHECK(names(night) == std::vector<std::string>{"flat1.fts", "light1.fits", "light2.fit", "light3.FITS", "bias1.fits"});
    CHECK_THROWS_AS(night.sort({}), ccdx::value_error);

    auto lights = night.filter({{"imagetyp", "light"}});
    write_tiny_fits(dir / "light4.fits", {kw("IMAGETYP", "'LIGHT   '"), kw("EXPOSURE", "5.0")});
    night.refresh();
    CHECK(night.size() == 6);
    lights.refresh();  // a filtered collection re-reads its own files only
    CHECK(lights.size() == 3);
    fs::remove(dir / "light2.fit");
    lights.refresh();
    CHECK(lights.size() == 2);
    CHECK(lights.skipped().size() == 1);
}

TEST_CASE("a collection of listed files: their order, from several folders, no endings applied")
{
    const fs::path dir = make_night();
    const fs::path other = dir.parent_path() / "other";
    fs::create_directories(other);
    write_tiny_fits(other / "late.dat", {kw("IMAGETYP", "'LIGHT   '"), kw("EXPOSURE", "5.0")});
    quiet q;
    const auto listed = ccdx::image_collection::from_files(
        {dir / "light2.fit", other / "late.dat", dir / "bias1.fits", dir / "junk.fits"}, q.options());
    CHECK(listed.location().empty());
    CHECK(listed.paths() == std::vector<fs::path>{dir / "light2.fit", other / "late.dat", dir / "bias1.fits"});
    REQUIRE(listed.skipped().size() == 1);
    CHECK(q.messages.size() == 1);
    const auto lights = listed.filter({{"imagetyp", "light"}});
    CHECK(lights.paths() == std::vector<fs::path>{dir / "light2.fit", other / "late.dat"});
    CHECK(lights.summary({"exposure"}).rows()[1] == std::vector<std::string>{(other / "late.dat").string(), "5.0"});
    CHECK(ccdx::image_collection::from_files({}, q.options()).empty());
}

TEST_CASE("the summary table: chosen keywords in the user's spelling, or all; missing cells empty")
{
    quiet q;
    const ccdx::image_collection night(make_night(), q.options());
    const auto t = night.summary({"ImageTyp", "exposure", "filter", "exposure", "file"});
    CHECK(t.columns() == std::vector<std::string>{"file", "ImageTyp", "exposure", "filter"});
    REQUIRE(t.rows().size() == 5);
    CHECK(t.rows()[0] == std::vector<std::string>{"bias1.fits", "BIAS", "0.0", ""});
    CHECK(t.rows()[2] == std::vector<std::string>{"light1.fits", "LIGHT", "90.0", "R"});
    CHECK(t.rows()[3] == std::vector<std::string>{"light2.fit", "light", "90", "V"});

    std::ostringstream table;
    table << t;
    std::istringstream lines(table.str());
    std::string head, rule, first;
    std::getline(lines, head);
    std::getline(lines, rule);
    std::getline(lines, first);
    CHECK(head.rfind("file         ImageTyp  exposure  filter", 0) == 0);
    CHECK(rule.find("----------  --------") != std::string::npos);
    CHECK(first.rfind("bias1.fits   BIAS      0.0", 0) == 0);

    std::ostringstream csv;
    night.summary({"object"}).write_csv(csv);
    CHECK(csv.str() == "file,object\nbias1.fits,\nflat1.fts,90\nlight1.fits,m13\nlight2.fit,M13\n"
                       "light3.FITS,\"NGC 6946, field\"\n");

    const auto all = night.summary();
    CHECK(night.summary({"filter", "*"}).columns() == all.columns());  // "*" among names: all of them
    const auto only_files = night.summary(std::vector<std::string>{});  // no keywords: the file column alone
    CHECK(only_files.columns() == std::vector<std::string>{"file"});
    CHECK(only_files.rows().size() == night.size());
    const auto& cols = all.columns();
    CHECK(cols.front() == "file");
    CHECK(std::find(cols.begin(), cols.end(), "naxis1") != cols.end());
    CHECK(std::find(cols.begin(), cols.end(), "a b") != cols.end());
    CHECK(std::find(cols.begin(), cols.end(), "") == cols.end());
    const auto history = static_cast<std::size_t>(std::find(cols.begin(), cols.end(), "history") - cols.begin());
    REQUIRE(history < cols.size());
    CHECK(all.rows()[0][history] == "made by hand,twice");
    CHECK(all.rows()[1][history].empty());
}

TEST_CASE("images are read lazily and written under their own names")
{
    const auto dir = make_night();
    const auto out = dir.parent_path() / "reduced";
    fs::remove_all(out);
    fs::create_directories(out);
    quiet q;
    auto o = q.options();
    o.read.unit = ccdx::unit("adu");  // the tiny files have no BUNIT
    const ccdx::image_collection night(dir, o);
    const auto lights = night.filter({{"imagetyp", "light"}});

    std::vector<std::string> seen;
    for (auto& f : lights.ccds<double>(out)) {
        seen.push_back(f.file);
        CHECK(f.path == dir / f.file);
        CHECK(f.image.data()(1, 2) == doctest::Approx(7));
        CHECK(f.image.header().value<std::string>("IMAGETYP") == (f.file == "light2.fit" ? "light" : "LIGHT"));
        f.image.data() *= 2.0;
    }
    CHECK(seen == lights.files());
    const ccdx::image_collection written(out, o);
    CHECK(written.files() == lights.files());
    for (auto& f : written.ccds()) CHECK(f.image.data()(0, 0) == doctest::Approx(14));

    // Breaking out of the loop leaves the current frame unsaved.
    fs::remove_all(out);
    fs::create_directories(out);
    for (auto& f : lights.ccds(out)) {
        (void)f;
        break;
    }
    CHECK(fs::is_empty(out));

    // save_with_name: beside the originals unless a folder is given, the suffix before the ending
    // (both endings of a compressed file).
    for (auto& f : lights.ccds<double>({}, {}, "_x2")) f.image.data() *= 2.0;
    for (const char* name : {"light1_x2.fits", "light2_x2.fit", "light3_x2.FITS"}) {
        CAPTURE(name);
        REQUIRE(fs::exists(dir / name));
        CHECK(ccdx::read_fits(dir / name, o.read).data()(1, 2) == doctest::Approx(14));
    }
    fs::copy_file(dir / "light1.fits", out / "packed.fits");
    ccdx::write_fits(ccdx::read_fits(out / "packed.fits", o.read), out / "packed.fits.gz");
    fs::remove(out / "packed.fits");
    for (auto& f : ccdx::image_collection(out, o).ccds({}, {}, "_red")) (void)f;
    CHECK(fs::exists(out / "packed_red.fits.gz"));

    CHECK_THROWS_WITH_AS(lights.ccds(dir / "missing-folder"), doctest::Contains("missing-folder"), ccdx::fits_error);
}

TEST_CASE("the real tutorial frames: gzip files, the light frame found by its keywords")
{
    quiet q;
    auto o = q.options();
    o.exclude = {"reference_*"};  // ccdproc's results kept beside the frames
    const ccdx::image_collection tutorial(fs::path(CCDX_TEST_DATA_DIR) / "feder_aspen_workshop", o);
    CHECK(tutorial.size() == 4);
    CHECK(q.messages.empty());
    const auto light = tutorial.filter({{"imagetyp", "light"}, {"filter", "r"}});
    CHECK(light.files() == std::vector<std::string>{"kelt-16-b-S001-R001-C084-r.fit.gz"});
    CHECK(names(tutorial.filter({{"exposure", 90}})).size() == 2);
    const auto t = tutorial.summary({"imagetyp", "exposure", "filter"});
    CHECK(t.rows()[0] == std::vector<std::string>{"combined_bias.fit.gz", "BIAS", "0.0", ""});
}
