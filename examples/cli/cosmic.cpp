// ccdx cosmic -o OUTFOLDER FRAMES...: cosmic rays found and cleaned in each frame, by L.A.Cosmic
// (cosmicray_lacosmic) or against a local median (cosmicray_median); hits are marked in the
// output's mask (mask_bits::cosmic_ray).

#include <memory>
#include <string>
#include <vector>

#include <ccdx/detect/cosmicray.hpp>
#include <ccdx/io/fits.hpp>
#include <ccdx/reduce/process_files.hpp>

#include "common.hpp"
#include "frames.hpp"
#include "header_values.hpp"

namespace ccdx::cli {

void add_cosmic(CLI::App& app)
{
    struct options {
        std::vector<std::string> files, where;
        std::string out, hdu, unit, suffix, method = "lacosmic";
        cosmicray_median_options median;
        std::optional<double> error;
        lacosmic_options la;
        std::string gain = "1", readnoise = "6.5", cleantype = "meanmask", fsmode = "median", psfmodel = "gauss";
        bool no_sepmed = false, no_gain_apply = false, overwrite = false;
    };
    auto o = std::make_shared<options>();
    auto* cmd = app.add_subcommand("cosmic", "Find and clean cosmic rays: L.A.Cosmic, or against a local median");
    cmd->add_option("files", o->files, "FITS frames: files, folders or globs")->required();
    add_where(cmd, o->where);
    add_hdu(cmd, o->hdu);
    cmd->add_option("-o,--output", o->out, "Folder for the cleaned frames (same file names)")->required();
    cmd->add_option("-m,--method", o->method, "lacosmic or median")
        ->check(CLI::IsMember({"lacosmic", "median"}))
        ->capture_default_str();
    auto* med = cmd->add_option_group("median", "--method median (ccdproc's cosmicray_median)");
    med->add_option("--thresh", o->median.thresh, "Hits stand this many errors above the local median")->capture_default_str();
    med->add_option("--mbox", o->median.mbox, "Box of the local median")->capture_default_str();
    med->add_option("--rbox", o->median.rbox, "Replace hits by the median of this box (0: keep their values)")
        ->capture_default_str();
    med->add_option("--gbox", o->median.gbox, "Grow hits by this box (0: no growth)")->capture_default_str();
    med->add_option("--error", o->error,
                    "One error for every pixel (default: the frame's uncertainty, else its pixels' standard deviation)");
    auto* la = cmd->add_option_group("lacosmic", "--method lacosmic (ccdproc's cosmicray_lacosmic)");
    la->add_option("--sigclip", o->la.sigclip, "Laplacian-to-noise limit for a hit")->capture_default_str();
    la->add_option("--sigfrac", o->la.sigfrac, "Neighbours join a hit above sigfrac * sigclip")->capture_default_str();
    la->add_option("--objlim", o->la.objlim, "Contrast limit against the fine structure")->capture_default_str();
    la->add_option("--gain", o->gain, "Gain in electron / adu, or @KEY (e.g. @GAIN)")->capture_default_str();
    la->add_option("--readnoise", o->readnoise, "Read noise in electrons, or @KEY (e.g. @RDNOISE)")->capture_default_str();
    la->add_option("--satlevel", o->la.satlevel, "Saturation level in electrons")->capture_default_str();
    la->add_option("--niter", o->la.niter, "Iterations")->capture_default_str();
    la->add_flag("--no-sepmed", o->no_sepmed, "Full median boxes instead of separable ones (slower)");
    la->add_option("--cleantype", o->cleantype, "Replacement of hits: median, medmask, meanmask or idw")
        ->check(CLI::IsMember({"median", "medmask", "meanmask", "idw"}))
        ->capture_default_str();
    la->add_option("--fsmode", o->fsmode, "Fine structure: median or convolve (with the PSF)")
        ->check(CLI::IsMember({"median", "convolve"}))
        ->capture_default_str();
    la->add_option("--psfmodel", o->psfmodel, "PSF for --fsmode convolve: gauss, gaussx, gaussy or moffat")
        ->check(CLI::IsMember({"gauss", "gaussx", "gaussy", "moffat"}))
        ->capture_default_str();
    la->add_option("--psffwhm", o->la.psffwhm, "PSF full width at half maximum, pixels")->capture_default_str();
    la->add_option("--psfsize", o->la.psfsize, "PSF kernel size, pixels (odd)")->capture_default_str();
    la->add_option("--psfbeta", o->la.psfbeta, "Moffat beta")->capture_default_str();
    la->add_flag("--no-gain-apply", o->no_gain_apply, "Keep the frame's unit (default: the result is in electrons)");
    cmd->add_option("--unit", o->unit, "Unit for files that have no BUNIT (e.g. adu)");
    cmd->add_option("--suffix", o->suffix, "Add this to each output's name before its FITS ending (e.g. _cr)");
    cmd->add_flag("--overwrite", o->overwrite, "Replace outputs that exist");
    cmd->callback([o] {
        check_number(o->gain, "--gain");
        check_number(o->readnoise, "--readnoise");
        read_options r;
        if (!o->unit.empty()) r.unit_if_none = unit(o->unit);
        const std::vector<fs::path> files = chosen_frames(o->files, o->where, r, o->hdu);
        fs::create_directories(o->out);
        process_files_options run;
        run.output_folder = o->out;
        run.suffix = o->suffix;
        run.write.overwrite = o->overwrite;
        const std::vector<fs::path> outputs = detail::planned_outputs(files, run);

        cosmicray_median_options median = o->median;
        median.error = o->error;
        lacosmic_options la = o->la;
        la.sepmed = !o->no_sepmed;
        la.gain_apply = !o->no_gain_apply;
        la.cleantype = o->cleantype == "median"    ? lacosmic_clean::median
                       : o->cleantype == "medmask" ? lacosmic_clean::medmask
                       : o->cleantype == "idw"     ? lacosmic_clean::idw
                                                   : lacosmic_clean::meanmask;
        la.fsmode = o->fsmode == "convolve" ? fine_structure::convolve : fine_structure::median;
        la.psfmodel = o->psfmodel == "gaussx"   ? psf_model::gaussx
                      : o->psfmodel == "gaussy" ? psf_model::gaussy
                      : o->psfmodel == "moffat" ? psf_model::moffat
                                                : psf_model::gauss;
        progress bar("cleaning");
        for (std::size_t i = 0; i < files.size(); ++i) {
            bar.step(i, files.size(), files[i].filename().string());
            const image<float> frame = read_fits<float>(files[i], r);
            image<float> cleaned;
            try {
                if (o->method == "median") {
                    cleaned = cosmicray_median(frame, median);
                } else {
                    la.gain = quantity_in(o->gain, frame.header(), unit("electron / adu"), "--gain");
                    la.readnoise = quantity_in(o->readnoise, frame.header(), unit("electron"), "--readnoise");
                    cleaned = cosmicray_lacosmic(frame, la);
                }
            } catch (const error&) {
                detail::rethrow_naming(files[i]);
            }
            write_fits(cleaned, outputs[i], run.write);
        }
    });
}

}  // namespace ccdx::cli
