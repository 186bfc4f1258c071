// ccdx preview IN.fits -o OUT.png: a quick look with an astronomer's display scaling.

#include <memory>
#include <string>

#include <ccdx/display/preview.hpp>
#include <ccdx/io/fits.hpp>

#include "common.hpp"
#include "frames.hpp"

namespace ccdx::cli {

void add_preview(CLI::App& app)
{
    struct options {
        std::string in, out;
        std::string limits = "zscale";
        std::string percentiles = "1,99.5";
        std::string stretch = "asinh";
        double softening = 0.5;
        std::size_t max_side = 2048;
        bool overwrite = false;
    };
    auto o = std::make_shared<options>();
    auto* cmd = app.add_subcommand("preview", "Write a greyscale PNG of a FITS image (row 1 at the bottom)");
    cmd->add_option("input", o->in, "FITS image (FILE, or FILE[HDU])")->required();
    cmd->add_option("-o,--output", o->out, "PNG file to write")->required();
    cmd->add_option("--limits", o->limits, "Display limits: zscale or percentile")
        ->check(CLI::IsMember({"zscale", "percentile"}))
        ->capture_default_str();
    cmd->add_option("--percentiles", o->percentiles, "LOW,HIGH percentiles for --limits percentile")->capture_default_str();
    cmd->add_option("--stretch", o->stretch, "linear, sqrt, log or asinh")
        ->check(CLI::IsMember({"linear", "sqrt", "log", "asinh"}))
        ->capture_default_str();
    cmd->add_option("--softening", o->softening, "asinh softening a (log uses 1/a)")->capture_default_str();
    cmd->add_option("--max-side", o->max_side, "Block-average larger images down to this many pixels a side")
        ->capture_default_str();
    cmd->add_flag("--overwrite", o->overwrite, "Replace the output if it exists");
    cmd->callback([o] {
        preview_options p;
        p.limits = o->limits == "zscale" ? preview_options::limits_kind::zscale : preview_options::limits_kind::percentile;
        std::tie(p.low_percent, p.high_percent) = number_pair(o->percentiles, "--percentiles");
        p.stretch = o->stretch == "linear" ? stretch::linear
                    : o->stretch == "sqrt" ? stretch::sqrt
                    : o->stretch == "log"  ? stretch::log
                                           : stretch::asinh;
        p.softening = o->softening;
        p.max_side = o->max_side;
        p.overwrite = o->overwrite;
        check_output(o->out, o->overwrite);
        const fits_input in = split_hdu(o->in);
        read_options r = at_hdu({}, in);
        r.unit = unit();  // the picture does not need the unit, so a file without BUNIT is fine
        const auto img = read_fits<float>(in.file, r);
        write_preview(img, o->out, p);
    });
}

}  // namespace ccdx::cli
