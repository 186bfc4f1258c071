// libFuzzer target for ccdx's text parsers. The first byte picks the parser, the rest is its
// text: run-time formulas (parsed, printed, evaluated), sections, units, FITS header records and
// collection filters (exact values and regular expressions). Any text must parse or throw a
// ccdx::error; a crash, a hang, a sanitizer report or another exception type is a bug.
// Built with -DCCDX_FUZZ=ON and clang (tests/fuzz.cmake); seeds in fuzz/parsers/.

#include <ccdx/ccdx.hpp>
#include <ccdx/io/detail/fits_records.hpp>

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>

namespace {

void formula(std::string_view text)
{
    const ccdx::formula f{std::string(text)};
    (void)f.to_string();
    if (f.operands().size() > 8) return;  // each operand costs an image; parsing is the target
    auto plane = ccdx::image<float>(xt::xtensor<float, 2>{{1.0f, -2.0f}, {0.0f, 4.0f}}, ccdx::unit("adu"));
    std::map<std::string, ccdx::image<float>, std::less<>> images;
    for (const std::string& name : f.operands()) images.emplace(name, plane);
    (void)f.evaluate(images);
}

void section(std::string_view text)
{
    (void)ccdx::parse_section(text);
    (void)ccdx::parse_section(text, 7, 5);
}

void unit(std::string_view text) { (void)ccdx::unit(text).to_string(); }

void records(std::string_view text)
{
    std::string padded(text);
    padded.resize((padded.size() + 79) / 80 * 80, ' ');
    ccdx::header h;
    ccdx::detail::parse_records(padded, h);
    for (const ccdx::card& c : h) (void)ccdx::to_string(c.value);
}

void filter(std::string_view text)
{
    ccdx::header h;
    h.set("OBJECT", std::string("M13 field, r band, 2x2 binned"));
    h.set("EXPTIME", 90.0);
    const std::string pattern(text);
    (void)ccdx::keyword_match("OBJECT", pattern)(h);
    (void)ccdx::keyword_match::regex("OBJECT", pattern)(h);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    if (size == 0) return 0;
    const std::string_view text(reinterpret_cast<const char*>(data) + 1, size - 1);
    try {
        switch ((data[0] + 2) % 5) {  // the digits 0..4 pick parsers 0..4
        case 0: formula(text); break;
        case 1: section(text); break;
        case 2: unit(text); break;
        case 3: records(text); break;
        default: filter(text); break;
        }
    } catch (const ccdx::error&) {
        // Refusing bad text with a ccdx error is the expected outcome.
    }
    return 0;
}
