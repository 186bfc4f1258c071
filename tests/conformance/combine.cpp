// Golden cases of ccdproc's combine and Combiner, run through ccdx::combine on the files
// themselves (streamed, as a user combining frames on disk would), with ccdproc's parameter
// names mapped onto combine_options.

#include <ccdx/stack/combine.hpp>

#include "conformance/registry.hpp"

namespace {

ccdx::clip_center center_named(const std::string& name)
{
    if (name == "mean") return ccdx::clip_center::mean;
    if (name == "median") return ccdx::clip_center::median;
    throw std::runtime_error("unknown sigma_clip_func '" + name + "'");
}

ccdx::clip_deviation deviation_named(const std::string& name)
{
    if (name == "std") return ccdx::clip_deviation::std;
    if (name == "mad_std") return ccdx::clip_deviation::mad_std;
    throw std::runtime_error("unknown sigma_clip_dev_func '" + name + "'");
}

ccdx::combine_options options_of(const conformance::golden_case& c)
{
    ccdx::combine_options o;
    const std::string method = c.string("method", "average");
    o.method = method == "median" ? ccdx::combine_method::median
             : method == "sum"    ? ccdx::combine_method::sum
                                  : ccdx::combine_method::average;
    if (c.flag("minmax_clip", false)) {
        if (c.has("minmax_clip_min")) o.min_value = c.number("minmax_clip_min");
        if (c.has("minmax_clip_max")) o.max_value = c.number("minmax_clip_max");
    }
    if (c.flag("clip_extrema", false)) {
        o.nlow = static_cast<std::size_t>(c.integer("nlow", 1));
        o.nhigh = static_cast<std::size_t>(c.integer("nhigh", 1));
    }
    if (c.flag("sigma_clip", false)) {
        ccdx::sigma_clip s;
        s.low = c.number("sigma_clip_low_thresh", 3);
        s.high = c.number("sigma_clip_high_thresh", 3);
        s.center = center_named(c.string("sigma_clip_func", "mean"));
        s.deviation = deviation_named(c.string("sigma_clip_dev_func", "std"));
        o.sigma_clip = s;
    }
    if (c.has("scale")) o.scale = c.numbers("scale");
    if (c.has("weights")) o.weights = c.numbers("weights");
    return o;
}

const conformance::registrar r_combine{"combine", [](const conformance::golden_case& c) {
    std::vector<std::filesystem::path> files;
    for (const auto& v : c.inputs.as_array()) files.push_back(c.path(v.as_string()));
    ccdx::combine_options o = options_of(c);
    o.memory_limit = 50 * 1024;  // several bands of rows for the small frames, a row at a time for large ones
    return ccdx::combine<double>(files, o);
}};

}  // namespace
