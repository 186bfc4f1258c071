// ccdproc's test_ccdproc_logging.py: the header cards each step adds, and add_keyword.
#include <doctest/doctest.h>

#include <cstdint>
#include <string>
#include <vector>

#include <ccdx/ccdx.hpp>
#include <ccdx/reduce/calibrate.hpp>
#include <ccdx/reduce/deviation.hpp>
#include <ccdx/reduce/trim.hpp>

#include "fixtures.hpp"

using ccdproc_fixtures::ccd_data;
using ccdx::image;
using ccdx::quantity;

namespace {

std::vector<std::string> keywords(const ccdx::header& h)
{
    std::vector<std::string> out;
    for (const auto& c : h) out.push_back(c.keyword);
    return out;
}

// ccdproc's CCDData(np.arange(1000).reshape(20, 50), unit='adu'), no header.
image<double> arange_20_50()
{
    image<double> img(20, 50, ccdx::unit("adu"));
    for (std::size_t i = 0; i < img.size(); ++i) img.data().data()[i] = double(i);
    return img;
}

}  // namespace

TEST_CASE("test_log_string")
{
    const auto ccd = ccd_data();
    for (const char* key : {"short", "toolongforfits"}) {
        INFO(key);
        const image<double> out =
            ccdx::add_keyword(ccdx::create_deviation(ccd, quantity(3, ccd.unit())), std::string(key));
        CHECK(out.header().contains(key));
        CHECK_FALSE(ccd.header().contains(key));
        REQUIRE(out.header().find(key) != nullptr);
        CHECK(std::holds_alternative<std::monostate>(out.header().find(key)->value));  // no value, as None
    }
}

TEST_CASE("test_log_keyword")
{
    const auto ccd = ccd_data();
    const image<double> out = ccdx::add_keyword(ccdx::create_deviation(ccd, quantity(3, ccd.unit())),
                                                ccdx::card{"filter", std::string("V"), ""});
    CHECK(out.header().contains("filter"));
    CHECK_FALSE(ccd.header().contains("filter"));
    CHECK(out.header().value<std::string>("filter") == "V");
}

TEST_CASE("test_log_dict")
{
    const auto ccd = ccd_data();
    const std::vector<ccdx::card> cards{{"process", std::string("Added deviation"), ""},
                                        {"n_images_input", std::int64_t{1}, ""},
                                        {"current_temp", 42.9, ""}};
    const image<double> out = ccdx::add_keyword(ccdx::create_deviation(ccd, quantity(3, ccd.unit())), cards);
    for (const auto& c : cards) {
        INFO(c.keyword);
        CHECK(out.header().contains(c.keyword));
        CHECK_FALSE(ccd.header().contains(c.keyword));
    }
    CHECK(out.header().value<std::string>("process") == "Added deviation");
    CHECK(out.header().value<std::int64_t>("n_images_input") == 1);
    CHECK(out.header().value<double>("current_temp") == 42.9);
}

TEST_CASE("test_log_set_to_None_does_not_change_header")
{
    const auto ccd = ccd_data();
    const image<double> out =
        ccdx::add_keyword(ccdx::create_deviation(ccd, quantity(3, ccd.unit())), ccdx::no_keywords);
    CHECK(keywords(out.header()) == keywords(ccd.header()));
}

TEST_CASE("test_implicit_logging")
{
    const auto ccd = ccd_data();
    image<double> bias(ccd.rows(), ccd.cols(), ccdx::unit("adu"));
    bias.data().fill(0);
    const image<double> result = ccdx::subtract_bias(ccd, bias);
    REQUIRE(result.header().contains("subtract_bias"));
    CHECK(result.header().value<std::string>("subtract_bias") == "subbias");
    CHECK(result.header().find("subtract_bias")->comment == "Shortened name for ccdproc command");
    CHECK(result.header().value<std::string>("subbias") == "ccd=<CCDData>, master=<CCDData>");

    const image<double> dev = ccdx::create_deviation(ccd, quantity(3, ccd.unit()));
    CHECK(dev.header().value<std::string>("create_deviation") == "creatvar");
    CHECK(dev.header().find("create_deviation")->comment == "Shortened name for ccdproc command");
    // str(3 * u.adu) in Python is "3.0 adu".
    CHECK(dev.header().value<std::string>("creatvar").find("readnoise=3.0 adu") != std::string::npos);
}

TEST_CASE("test_loggin_without_keyword_args")
{
    const std::string section = "[10:20, 10:20]";
    const image<double> trimmed = ccdx::trim_image(arange_20_50(), section);
    CHECK(trimmed.header().value<std::string>("trimim").find(section) != std::string::npos);
}

TEST_CASE("test_logging_with_really_long_parameter_value")
{
    // ccdproc clips this section to the image and records the string as given; ccdx's sections
    // are strict (README, "differs on purpose"), so the section is refused instead.
    const std::string section = "[10:2000000000000000000000000000000000000000000000000000000, "
                                "10:2000000000000000000000000000000]";
    CHECK_THROWS_AS(image<double>(ccdx::trim_image(arange_20_50(), section)), ccdx::section_error);
    // A long section that fits is recorded whole.
    const std::string fits = "[10:20,               10:20]";
    const image<double> trimmed = ccdx::trim_image(arange_20_50(), fits);
    CHECK(trimmed.header().value<std::string>("trimim").find(fits) != std::string::npos);
}
