#include <doctest/doctest.h>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <ccdx/core/header.hpp>

using ccdx::card_value;
using ccdx::header;

namespace {

std::vector<std::string> keywords(const header& h)
{
    std::vector<std::string> out;
    for (const auto& c : h) out.push_back(c.keyword);
    return out;
}

std::string keyword_message(const std::function<void()>& f)
{
    try {
        f();
    } catch (const ccdx::keyword_error& e) {
        return e.what();
    }
    FAIL("no keyword_error");
    return {};
}

}  // namespace

TEST_CASE("cards keep their order and are found whatever the case")
{
    header h;
    CHECK(h.empty());
    h.set("IMAGETYP", std::string("bias"), "frame type");
    h.set("EXPTIME", 0.0);
    h.set("GAIN", 1.5);
    CHECK(h.size() == 3);
    CHECK(keywords(h) == std::vector<std::string>{"IMAGETYP", "EXPTIME", "GAIN"});
    CHECK(h.contains("imagetyp"));
    CHECK(h.contains("ImageTyp"));
    CHECK_FALSE(h.contains("FILTER"));
    CHECK(h.find("FILTER") == nullptr);
    REQUIRE(h.find("gain") != nullptr);
    CHECK(h.find("gain")->keyword == "GAIN");
    CHECK(h.find("imagetyp")->comment == "frame type");
    CHECK(&h.cards()[1] == h.find("exptime"));
}

TEST_CASE("set replaces in place and keeps the old comment unless given a new one")
{
    header h;
    h.set("A", std::int64_t{1}, "first");
    h.set("B", std::int64_t{2}, "second");
    h.set("C", std::int64_t{3});
    h.set("b", std::int64_t{20});
    CHECK(keywords(h) == std::vector<std::string>{"A", "B", "C"});
    CHECK(h.value<std::int64_t>("B") == 20);
    CHECK(h.find("B")->comment == "second");
    h.set("A", 1.25, "changed");
    CHECK(h.find("A")->comment == "changed");
    CHECK(h.value<double>("A") == 1.25);
    CHECK(h.size() == 3);
}

TEST_CASE("literal values land in the variant alternative they look like")
{
    header h;
    h.set("S", "text");
    h.set("I", 42);
    h.set("D", 42.0);
    h.set("F", 2.5f);
    h.set("L", true);
    h.set("U", card_value{});
    CHECK(std::holds_alternative<std::string>(h.find("S")->value));
    CHECK(std::holds_alternative<std::int64_t>(h.find("I")->value));
    CHECK(std::holds_alternative<double>(h.find("D")->value));
    CHECK(std::holds_alternative<double>(h.find("F")->value));
    CHECK(std::holds_alternative<bool>(h.find("L")->value));
    CHECK(std::holds_alternative<std::monostate>(h.find("U")->value));
}

TEST_CASE("HISTORY and COMMENT repeat, in order")
{
    header h;
    h.set("OBJECT", "M31");
    h.add_history("bias subtracted");
    h.set("HISTORY", "dark subtracted");
    h.add_comment("first comment");
    h.set("comment", "second comment");
    h.add_history("flat corrected");
    h.set("", "blank card one");
    h.set("", "blank card two");
    CHECK(h.history() == std::vector<std::string>{"bias subtracted", "dark subtracted", "flat corrected"});
    CHECK(h.comments() == std::vector<std::string>{"first comment", "second comment"});
    CHECK(keywords(h) ==
          std::vector<std::string>{"OBJECT", "HISTORY", "HISTORY", "COMMENT", "comment", "HISTORY", "", ""});
    CHECK(h.size() == 8);
}

TEST_CASE("erase removes every card with the keyword")
{
    header h;
    h.add_history("one");
    h.set("X", 1);
    h.add_history("two");
    CHECK(h.erase("history"));
    CHECK(h.history().empty());
    CHECK(keywords(h) == std::vector<std::string>{"X"});
    CHECK_FALSE(h.erase("NOPE"));
    CHECK(h.erase("x"));
    CHECK(h.empty());
}

TEST_CASE("HIERARCH keywords are stored without the prefix and found either way")
{
    header h;
    h.set("HIERARCH ESO DET CHIP GAIN", 2.1);
    h.set("a b", "spaced");
    CHECK(h.find("ESO DET CHIP GAIN")->keyword == "ESO DET CHIP GAIN");
    CHECK(h.value<double>("eso det chip gain") == 2.1);
    CHECK(h.value<double>("hierarch ESO DET CHIP GAIN") == 2.1);
    CHECK(h.value<std::string>("A B") == "spaced");
    h.set("HIERARCH ESO DET CHIP GAIN", 2.2);
    CHECK(h.size() == 2);
    CHECK(h.erase("HIERARCH eso det chip gain"));
    CHECK(h.size() == 1);
}

TEST_CASE("string values of any length are kept whole")
{
    header h;
    const std::string long_text(5000, 'x');
    h.set("TRIMIM", "ccd=<CCDData>, fits_section=" + long_text);
    CHECK(h.value<std::string>("TRIMIM").size() == 5000 + 28);
    h.add_history(long_text);
    CHECK(h.history().front() == long_text);
}

TEST_CASE("typed reads: widening and numeric strings")
{
    header h;
    h.set("EXPTIME", 30);
    h.set("EXPOSURE", "90.0");
    h.set("NCOMBINE", " 12 ");
    h.set("GAIN", 1.5);
    h.set("FLAG", false);
    h.set("BIG", std::int64_t{5'000'000'000});
    h.set("NEG", "-3");
    h.set("PLUS", "+4.5");

    CHECK(h.get<double>("EXPTIME") == 30.0);
    CHECK(h.get<float>("EXPTIME") == 30.0f);
    CHECK(h.get<int>("EXPTIME") == 30);
    CHECK(h.get<long>("EXPTIME") == 30L);
    CHECK(h.get<std::int64_t>("BIG") == 5'000'000'000);
    CHECK(h.get<double>("EXPOSURE") == 90.0);
    CHECK(h.get<int>("NCOMBINE") == 12);
    CHECK(h.get<double>("NCOMBINE") == 12.0);
    CHECK(h.get<int>("NEG") == -3);
    CHECK(h.get<double>("PLUS") == 4.5);
    CHECK(h.get<double>("GAIN") == 1.5);
    CHECK(h.get<float>("GAIN") == 1.5f);
    CHECK(h.get<bool>("FLAG") == false);
    CHECK(h.get<std::string>("EXPOSURE") == "90.0");
    CHECK_FALSE(h.get<double>("MISSING").has_value());

    h.set("UNDEF", card_value{});
    CHECK_FALSE(h.get<double>("UNDEF").has_value());
    CHECK(h.value<int>("exptime") == 30);
}

TEST_CASE("a missing or mistyped keyword throws keyword_error naming the keyword and both types")
{
    header h;
    h.set("IMAGETYP", "bias");
    h.set("GAIN", 1.5);
    h.set("NAXIS", 2);
    h.set("BIG", std::int64_t{5'000'000'000});
    h.set("SIMPLE", true);
    h.set("UNDEF", card_value{});
    h.set("HALF", "12.5");

    CHECK_THROWS_WITH_AS(h.value<double>("EXPOSURE"), "keyword 'EXPOSURE' not found in header", ccdx::keyword_error);
    CHECK_THROWS_WITH_AS(h.value<double>("UNDEF"), "keyword 'UNDEF' has no value", ccdx::keyword_error);
    CHECK(keyword_message([&] { h.get<double>("IMAGETYP"); }) == "keyword 'IMAGETYP' holds a string (bias), not a real");
    CHECK(keyword_message([&] { h.get<int>("GAIN"); }) ==
          "keyword 'GAIN' holds a real (1.5), not an integer in [-2147483648, 2147483647]");
    CHECK(keyword_message([&] { h.get<std::int64_t>("GAIN"); }) == "keyword 'GAIN' holds a real (1.5), not an integer");
    CHECK(keyword_message([&] { h.get<int>("BIG"); }) ==
          "keyword 'BIG' holds an integer (5000000000), not an integer in [-2147483648, 2147483647]");
    CHECK(keyword_message([&] { h.get<std::string>("NAXIS"); }) == "keyword 'NAXIS' holds an integer (2), not a string");
    CHECK(keyword_message([&] { h.get<bool>("NAXIS"); }) == "keyword 'NAXIS' holds an integer (2), not a logical");
    CHECK(keyword_message([&] { h.get<double>("SIMPLE"); }) == "keyword 'SIMPLE' holds a logical (T), not a real");
    CHECK(keyword_message([&] { h.get<int>("HALF"); }) == "keyword 'HALF' holds a string (12.5), not an integer in [-2147483648, 2147483647]");
    CHECK(h.value<unsigned>("NAXIS") == 2u);
    CHECK(keyword_message([&] { (void)h.value<unsigned>("BIG"); }) ==
          "keyword 'BIG' holds an integer (5000000000), not an integer in [0, 4294967295]");

    h.set("NEGATIVE", -1);
    CHECK_THROWS_AS(h.get<unsigned>("NEGATIVE"), ccdx::keyword_error);
    for (const char* text : {"", " ", "abc", "1.5.2", "12abc", "--3", "+-3", "0x10"}) {
        CAPTURE(text);
        h.set("TEXT", text);
        CHECK_THROWS_AS(h.get<double>("TEXT"), ccdx::keyword_error);
        CHECK_THROWS_AS(h.get<std::int64_t>("TEXT"), ccdx::keyword_error);
    }
}

TEST_CASE("to_string(card_value) prints FITS-like text")
{
    using ccdx::to_string;
    CHECK(to_string(card_value{}) == "");
    CHECK(to_string(card_value{true}) == "T");
    CHECK(to_string(card_value{false}) == "F");
    CHECK(to_string(card_value{std::int64_t{-42}}) == "-42");
    CHECK(to_string(card_value{90.0}) == "90.0");
    CHECK(to_string(card_value{0.3}) == "0.3");
    CHECK(to_string(card_value{0.1 + 0.2}) == "0.30000000000000004");
    CHECK(to_string(card_value{1e-5}) == "1e-05");
    CHECK(to_string(card_value{1e20}) == "1e+20");
    CHECK(to_string(card_value{-0.5}) == "-0.5");
    CHECK(to_string(card_value{std::string("it's 'quoted'")}) == "it's 'quoted'");
}
