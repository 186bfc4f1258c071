// ccdx reduce -o OUTFOLDER FILES...: bias, dark and flat (and overscan, trim, gain, noise) for
// each raw frame, one ccd_process pass per file, written under the same name; reading, the
// pass and writing overlap (ccdx::process_files).

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <ccdx/io/fits.hpp>
#include <ccdx/reduce/process_files.hpp>

#include "common.hpp"
#include "frames.hpp"

namespace ccdx::cli {

namespace {

// A dark taken for another exposure time, subtracted unscaled, leaves the wrong dark current:
// refused unless the user says which it is.
void check_same_exposure(const fs::path& frame, const header& h, const header& dark)
{
    for (const char* keyword : {"EXPTIME", "EXPOSURE"}) {
        std::optional<double> t, d;
        try {
            t = h.get<double>(keyword), d = dark.get<double>(keyword);
        } catch (const keyword_error&) {
            continue;  // not a number: not an exposure time this check can compare
        }
        if (t && d && *t != *d)
            throw value_error("frame '" + frame.filename().string() + "' has " + keyword + " = " +
                              to_string(h.find(keyword)->value) + " and the dark " + to_string(dark.find(keyword)->value) +
                              ": give --exposure-key " + keyword +
                              " to scale the dark by their ratio, or --no-dark-scale to subtract it as it is");
    }
}

}  // namespace

void add_reduce(CLI::App& app)
{
    struct options {
        std::vector<std::string> files, where;
        std::string out, bias, dark, flat, exposure_key, exposure_unit = "s", oscan, trim, unit;
        std::optional<double> gain, readnoise;
        bool overwrite = false, no_dark_scale = false;
    };
    auto o = std::make_shared<options>();
    auto* cmd = app.add_subcommand("reduce", "Calibrate raw frames: overscan, trim, gain, bias, dark, flat (one pass each)");
    cmd->add_option("files", o->files, "Raw FITS frames: files, folders or globs")->required();
    add_where(cmd, o->where);
    cmd->add_option("-o,--output", o->out, "Folder for the reduced frames (same file names)")->required();
    cmd->add_option("--bias", o->bias, "Master bias")->check(CLI::ExistingFile);
    cmd->add_option("--dark", o->dark, "Master dark (bias-subtracted)")->check(CLI::ExistingFile);
    cmd->add_option("--exposure-key", o->exposure_key,
                    "Header keyword of the exposure time: scale the dark by the ratio of exposure times");
    cmd->add_flag("--no-dark-scale", o->no_dark_scale,
                  "Subtract the dark as it is, whatever the frames' and the dark's exposure times");
    cmd->add_option("--exposure-unit", o->exposure_unit, "Unit of the exposure keyword's values")->capture_default_str();
    cmd->add_option("--flat", o->flat, "Master flat (normalised by its mean)")->check(CLI::ExistingFile);
    cmd->add_option("--gain", o->gain, "Gain in electron / adu: the result is in electrons");
    cmd->add_option("--readnoise", o->readnoise, "Read noise in electrons (with --gain: add the uncertainty)");
    cmd->add_option("--oscan", o->oscan, "Overscan section, FITS style, e.g. '[2049:2080,1:2048]'");
    cmd->add_option("--trim", o->trim, "Section to keep, FITS style, e.g. '[1:2048,1:2048]'");
    cmd->add_option("--unit", o->unit, "Unit for files that have no BUNIT (e.g. adu)");
    cmd->add_flag("--overwrite", o->overwrite, "Replace outputs that exist");
    cmd->callback([o] {
        if (o->readnoise && !o->gain) throw value_error("--readnoise needs --gain to make the uncertainty");
        if (!o->exposure_key.empty() && o->dark.empty()) throw value_error("--exposure-key is for scaling a --dark");
        if (!o->exposure_key.empty() && o->no_dark_scale)
            throw value_error("--exposure-key scales the dark and --no-dark-scale does not: give one of them");
        const std::vector<fs::path> files = chosen_frames(o->files, o->where);
        const fs::path folder = o->out;
        fs::create_directories(folder);
        // In the flag's words; process_files checks every output again before it reads, and
        // names an output that would replace its own input.
        for (const auto& f : files) {
            const fs::path out = folder / f.filename();
            if (!(fs::exists(out) && fs::equivalent(out, f))) check_output(out, o->overwrite);
        }

        read_options r;
        if (!o->unit.empty()) r.unit_if_none = unit(o->unit);
        std::optional<image<float>> bias, dark, flat;
        if (!o->bias.empty()) bias = read_fits<float>(o->bias, r);
        if (!o->dark.empty()) dark = read_fits<float>(o->dark, r);
        if (!o->flat.empty()) flat = read_fits<float>(o->flat, r);

        if (dark && o->exposure_key.empty() && !o->no_dark_scale)
            for (const auto& f : files) check_same_exposure(f, read_fits_header(f, r), dark->header());

        process_options<float> p;
        p.oscan = o->oscan;
        p.trim = o->trim;
        if (bias) p.master_bias = &*bias;
        if (dark) p.dark_frame = &*dark;
        if (flat) p.master_flat = &*flat;
        if (!o->exposure_key.empty()) {
            p.dark.exposure_keyword = o->exposure_key;
            p.dark.exposure_unit = unit(o->exposure_unit);
            p.dark.scale = true;
        }
        if (o->gain) p.gain = quantity(*o->gain, unit("electron / adu"));
        if (o->readnoise) {
            p.readnoise = quantity(*o->readnoise, unit("electron"));
            p.error = true;
        }
        // Masters in the raw frames' unit take the gain after them; masters already in
        // electrons, before. A night's frames share their unit: the first one's decides.
        const image<float>* master = bias ? &*bias : dark ? &*dark : nullptr;
        if (master) {
            read_options unit_only = r;  // one pixel, for its unit
            unit_only.uncertainty_hdu = unit_only.mask_hdu = "";
            const unit raw = read_fits_section<float>(files.front(), section{{0, 1}, {0, 1}}, unit_only).unit();
            p.gain_corrected = master->unit() != raw;
        }

        process_files_options run;
        run.output_folder = folder;
        run.read = r;
        run.write.overwrite = o->overwrite;
        progress bar("reducing");
        run.progress = [&](std::size_t done, std::size_t total, const fs::path& written) {
            bar.step(done, total, written.filename().string());
        };
        process_files(files, p, run);
    });
}

}  // namespace ccdx::cli
