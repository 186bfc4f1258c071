// Golden ops of the reduction toolbox: subtract_bias, subtract_dark, flat_correct, gain_correct,
// create_deviation, subtract_overscan, trim_image, ccd_process and the block operations, called
// with the parameters ccdproc was called with.

#include <optional>
#include <string>

#include <ccdx/ccdx.hpp>
#include <ccdx/reduction.hpp>

#include "registry.hpp"

namespace {

using conformance::golden_case;

std::optional<double> optional_number(const golden_case& c, const char* key)
{
    return c.has(key) ? std::optional<double>(c.number(key)) : std::nullopt;
}

ccdx::quantity quantity_param(const golden_case& c, const char* value, const char* unit)
{
    return ccdx::quantity(c.number(value), c.has(unit) ? ccdx::unit(c.string(unit)) : ccdx::unit());
}

ccdx::dark_options dark_params(const golden_case& c, const char* keyword_key, const char* scale_key)
{
    ccdx::dark_options o;
    if (c.has("exposure_unit")) o.exposure_unit = ccdx::unit(c.string("exposure_unit"));
    if (c.has(keyword_key)) o.exposure_keyword = c.string(keyword_key);
    const ccdx::unit u = o.exposure_unit.value_or(ccdx::unit());
    if (c.has("dark_exposure")) o.dark_exposure = ccdx::quantity(c.number("dark_exposure"), u);
    if (c.has("data_exposure")) o.data_exposure = ccdx::quantity(c.number("data_exposure"), u);
    // Explicit times carry their unit; the keyword form alone needs exposure_unit.
    if (o.dark_exposure || o.data_exposure) o.exposure_unit.reset();
    o.scale = c.flag(scale_key, false);
    return o;
}

ccdx::block_size block_param(const golden_case& c)
{
    const auto& b = c.param("block_size");
    if (b.is_number()) return ccdx::block_size(static_cast<std::size_t>(b.as_number()));
    return ccdx::block_size(static_cast<std::size_t>(b[0].as_number()), static_cast<std::size_t>(b[1].as_number()));
}

ccdx::overscan_options overscan_params(const golden_case& c)
{
    ccdx::overscan_options o;
    if (c.params.find("overscan_axis")) {
        o.axis = c.has("overscan_axis") ? std::optional<int>(static_cast<int>(c.integer("overscan_axis"))) : std::nullopt;
    }
    o.median = c.flag("median", false);
    if (c.has("model")) {
        const std::string model = c.string("model");
        const std::string prefix = "polynomial:";
        if (model.rfind(prefix, 0) != 0) throw std::runtime_error("unknown overscan model '" + model + "'");
        o.fit_degree = static_cast<unsigned>(std::stoul(model.substr(prefix.size())));
    }
    return o;
}

const conformance::registrar r_bias{"subtract_bias", [](const golden_case& c) {
    const auto ccd = c.image("ccd"), master = c.image("master");
    return ccdx::eval<double>(ccdx::subtract_bias(ccd, master));
}};

const conformance::registrar r_dark{"subtract_dark", [](const golden_case& c) {
    const auto ccd = c.image("ccd"), master = c.image("master");
    return ccdx::eval<double>(ccdx::subtract_dark(ccd, master, dark_params(c, "exposure_time", "scale")));
}};

const conformance::registrar r_flat{"flat_correct", [](const golden_case& c) {
    const auto ccd = c.image("ccd"), flat = c.image("flat");
    return ccdx::eval<double>(ccdx::flat_correct(ccd, flat, optional_number(c, "min_value"), optional_number(c, "norm_value")));
}};

const conformance::registrar r_gain{"gain_correct", [](const golden_case& c) {
    const auto ccd = c.image("ccd");
    return ccdx::eval<double>(ccdx::gain_correct(ccd, quantity_param(c, "gain", "gain_unit")));
}};

const conformance::registrar r_deviation{"create_deviation", [](const golden_case& c) {
    const auto ccd = c.image("ccd");
    const ccdx::quantity readnoise = quantity_param(c, "readnoise", "readnoise_unit");
    const bool disregard_nan = c.flag("disregard_nan", false);
    if (c.has("gain"))
        return ccdx::eval<double>(
            ccdx::create_deviation(ccd, quantity_param(c, "gain", "gain_unit"), readnoise, disregard_nan));
    return ccdx::eval<double>(ccdx::create_deviation(ccd, readnoise, disregard_nan));
}};

const conformance::registrar r_overscan{"subtract_overscan", [](const golden_case& c) {
    const auto ccd = c.image("ccd");
    return ccdx::eval<double>(ccdx::subtract_overscan(ccd, c.string("fits_section"), overscan_params(c)));
}};

const conformance::registrar r_trim{"trim_image", [](const golden_case& c) {
    const auto ccd = c.image("ccd");
    return ccdx::eval<double>(ccdx::trim_image(ccd, c.string("fits_section")));
}};

const conformance::registrar r_process{"ccd_process", [](const golden_case& c) {
    const auto ccd = c.image("ccd");
    std::optional<ccdx::image<double>> bias, dark, flat;
    std::optional<xt::xtensor<ccdx::mask_t, 2>> bad_pixels;
    ccdx::process_options<double> o;
    if (c.inputs.find("master_bias")) o.master_bias = &bias.emplace(c.image("master_bias"));
    if (c.inputs.find("dark_frame")) o.dark_frame = &dark.emplace(c.image("dark_frame"));
    if (c.inputs.find("master_flat")) o.master_flat = &flat.emplace(c.image("master_flat"));
    if (c.inputs.find("bad_pixel_mask")) {
        const auto plane = c.image("bad_pixel_mask");
        bad_pixels = xt::xtensor<ccdx::mask_t, 2>(xt::cast<ccdx::mask_t>(xt::not_equal(plane.data(), 0.0)));
        o.bad_pixel_mask = &*bad_pixels;
    }
    o.oscan = c.string("oscan", "");
    o.trim = c.string("trim", "");
    o.oscan_median = c.flag("oscan_median", true);
    o.error = c.flag("error", false);
    if (c.has("gain")) o.gain = quantity_param(c, "gain", "gain_unit");
    if (c.has("readnoise")) o.readnoise = quantity_param(c, "readnoise", "readnoise_unit");
    o.min_value = optional_number(c, "min_value");
    o.dark = dark_params(c, "exposure_key", "dark_scale");
    o.gain_corrected = c.flag("gain_corrected", true);
    return ccdx::eval<double>(ccdx::ccd_process(ccd, o));
}};

const conformance::registrar r_block_reduce{"block_reduce", [](const golden_case& c) {
    const std::string func = c.string("func", "sum");
    if (func != "sum" && func != "mean") throw std::runtime_error("block_reduce: unknown func '" + func + "'");
    return ccdx::block_reduce(c.image("ccd"), block_param(c),
                              func == "sum" ? ccdx::block_function::sum : ccdx::block_function::mean);
}};

const conformance::registrar r_block_average{"block_average", [](const golden_case& c) {
    return ccdx::block_average(c.image("ccd"), block_param(c));
}};

const conformance::registrar r_block_replicate{"block_replicate", [](const golden_case& c) {
    return ccdx::block_replicate(c.image("ccd"), block_param(c), c.flag("conserve_sum", true));
}};

}  // namespace
