// ccdx combine -o OUT.fits FILES...: a master frame from a stack, streamed in bands of rows.

#include <memory>
#include <string>
#include <vector>

#include <ccdx/io/fits.hpp>
#include <ccdx/stack/combine.hpp>

#include "common.hpp"
#include "frames.hpp"

namespace ccdx::cli {

namespace {

// --unit U: the unit of files without BUNIT; files that have one must agree with it.
read_options unit_for(const std::vector<fs::path>& files, const std::string& text, read_options r)
{
    if (text.empty()) return r;
    const unit u(text);
    for (const auto& f : files) {
        const auto bunit = read_fits_header(f, r).get<std::string>("BUNIT");
        if (bunit && unit(*bunit) != u)
            throw unit_error("--unit " + text + " disagrees with BUNIT '" + *bunit + "' of '" + f.string() + "'");
    }
    r.unit = u;
    return r;
}

}  // namespace

void add_combine(CLI::App& app)
{
    struct options {
        std::vector<std::string> files, where;
        std::string out;
        std::string method = "average";
        std::string sigma_clip, minmax, extrema, scale, memory = "1G", unit, hdu;
        std::string clip_center = "mean", clip_dev = "std";
        bool overwrite = false;
        bool use_double = false;
    };
    auto o = std::make_shared<options>();
    auto* cmd = app.add_subcommand("combine", "Combine a stack of FITS images pixel by pixel (e.g. a master bias)");
    cmd->add_option("files", o->files, "FITS images of one shape and unit: files, folders or globs")->required();
    add_where(cmd, o->where);
    add_hdu(cmd, o->hdu);
    cmd->add_option("-o,--output", o->out, "Output FITS file")->required();
    cmd->add_option("-m,--method", o->method, "average, median or sum")
        ->check(CLI::IsMember({"average", "median", "sum"}))
        ->capture_default_str();
    cmd->add_option("--sigma-clip", o->sigma_clip, "LOW,HIGH: reject values beyond these many deviations");
    cmd->add_option("--clip-center", o->clip_center, "Sigma-clipping centre: mean or median")
        ->check(CLI::IsMember({"mean", "median"}))
        ->capture_default_str();
    cmd->add_option("--clip-dev", o->clip_dev, "Sigma-clipping deviation: std or mad_std")
        ->check(CLI::IsMember({"std", "mad_std"}))
        ->capture_default_str();
    cmd->add_option("--minmax", o->minmax, "MIN,MAX: reject values below MIN or above MAX");
    cmd->add_option("--extrema", o->extrema, "NLOW,NHIGH: reject the NLOW lowest and NHIGH highest values");
    cmd->add_option("--scale", o->scale, "Scale each image before combining: inverse-median")
        ->check(CLI::IsMember({"inverse-median"}));
    cmd->add_option("--memory-limit", o->memory, "Pixels held at once, e.g. 2G or 512M")->capture_default_str();
    cmd->add_option("--unit", o->unit, "Unit for files that have no BUNIT (e.g. adu)");
    cmd->add_flag("--double", o->use_double, "Compute and write in double precision (default: float)");
    cmd->add_flag("--overwrite", o->overwrite, "Replace the output if it exists");
    cmd->callback([o] {
        check_output(o->out, o->overwrite);
        read_options r;
        const std::vector<fs::path> files = chosen_frames(o->files, o->where, r, o->hdu);
        combine_options c;
        c.method = o->method == "median" ? combine_method::median
                   : o->method == "sum"  ? combine_method::sum
                                         : combine_method::average;
        if (!o->sigma_clip.empty()) {
            sigma_clip s;
            std::tie(s.low, s.high) = number_pair(o->sigma_clip, "--sigma-clip");
            s.center = o->clip_center == "median" ? clip_center::median : clip_center::mean;
            s.deviation = o->clip_dev == "mad_std" ? clip_deviation::mad_std : clip_deviation::std;
            c.sigma_clip = s;
        }
        if (!o->minmax.empty()) {
            const auto [lo, hi] = number_pair(o->minmax, "--minmax");
            c.min_value = lo;
            c.max_value = hi;
        }
        if (!o->extrema.empty()) {
            const auto [lo, hi] = number_pair(o->extrema, "--extrema");
            if (lo < 0 || hi < 0 || lo != static_cast<double>(static_cast<std::size_t>(lo)) ||
                hi != static_cast<double>(static_cast<std::size_t>(hi)))
                throw value_error("--extrema wants two whole numbers, got '" + o->extrema + "'");
            c.nlow = static_cast<std::size_t>(lo);
            c.nhigh = static_cast<std::size_t>(hi);
        }
        if (o->scale == "inverse-median") c.scale_function = inverse_median;
        c.memory_limit = memory_size(o->memory);
        c.read = unit_for(files, o->unit, r);
        c.output = o->out;
        c.write.overwrite = o->overwrite;
        c.write.bitpix = o->use_double ? write_options::pixel_type::float64 : write_options::pixel_type::float32;
        progress bar("combining");
        bar.step(0, files.size(), "files");
        if (o->use_double)
            (void)combine<double>(files, c);
        else
            (void)combine<float>(files, c);
    });
}

}  // namespace ccdx::cli
