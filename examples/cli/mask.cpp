// ccdx mask -o BAD.fits FLAT_A.fits [FLAT_B.fits]: bad pixels and columns (ccdmask) from the
// ratio of two flats of different exposure, or from a ratio made beforehand; written as an
// integer image, 1 = bad, which `ccdx reduce --mask` takes.

#include <memory>
#include <string>
#include <vector>

#include <ccdx/detect/ccdmask.hpp>
#include <ccdx/expr/evaluate.hpp>
#include <ccdx/expr/operators.hpp>
#include <ccdx/io/fits.hpp>

#include "common.hpp"
#include "frames.hpp"

namespace ccdx::cli {

void add_mask(CLI::App& app)
{
    struct options {
        std::vector<std::string> flats;
        std::string out, unit;
        ccdmask_options mask;
        bool overwrite = false;
    };
    auto o = std::make_shared<options>();
    auto* cmd = app.add_subcommand("mask", "Bad-pixel mask from a ratio of two flats (ccdmask), for reduce --mask");
    cmd->add_option("flats", o->flats, "Two flats of different exposure (FILE or FILE[HDU]), or one ratio of two")
        ->required()
        ->expected(1, 2);
    cmd->add_option("-o,--output", o->out, "Output FITS file: 1 = bad, 0 = good")->required();
    cmd->add_flag("--findbadcolumns", o->mask.findbadcolumns, "Also mark short good runs between bad pixels in columns");
    cmd->add_flag("--byblocks", o->mask.byblocks, "One sigma per block instead of a moving window");
    cmd->add_option("--ncmed", o->mask.ncmed, "Columns of the running median")->capture_default_str();
    cmd->add_option("--nlmed", o->mask.nlmed, "Lines of the running median")->capture_default_str();
    cmd->add_option("--ncsig", o->mask.ncsig, "Columns of the sigma window or block")->capture_default_str();
    cmd->add_option("--nlsig", o->mask.nlsig, "Lines of the sigma window or block")->capture_default_str();
    cmd->add_option("--lsigma", o->mask.lsigma, "Low limit, in sigmas")->capture_default_str();
    cmd->add_option("--hsigma", o->mask.hsigma, "High limit, in sigmas")->capture_default_str();
    cmd->add_option("--ngood", o->mask.ngood, "Good runs of up to this many lines between bad pixels are bad")
        ->capture_default_str();
    cmd->add_option("--unit", o->unit, "Unit for files that have no BUNIT (e.g. adu)");
    cmd->add_flag("--overwrite", o->overwrite, "Replace the output if it exists");
    cmd->callback([o] {
        check_output(o->out, o->overwrite);
        const auto read = [&](const std::string& text) {
            const fits_input in = split_hdu(text);
            read_options r = at_hdu({}, in);
            if (!o->unit.empty()) r.unit_if_none = unit(o->unit);
            return read_fits<float>(in.file, r);
        };
        image<float> ratio = read(o->flats[0]);
        if (o->flats.size() == 2) ratio = image<float>(ratio / read(o->flats[1]));
        const xt::xtensor<bool, 2> bad = ccdmask(ratio, o->mask);
        image<float> out(ratio.rows(), ratio.cols(), unit());
        for (std::size_t i = 0; i < bad.size(); ++i) out.data().data()[i] = bad.data()[i] ? 1.0f : 0.0f;
        out.header().add_history("ccdx mask: ccdmask of " + o->flats[0] + (o->flats.size() == 2 ? " / " + o->flats[1] : ""));
        write_options w;
        w.overwrite = o->overwrite;
        w.bitpix = write_options::pixel_type::int16;
        write_fits(out, o->out, w);
    });
}

}  // namespace ccdx::cli
