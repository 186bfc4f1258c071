// ccdx reduce -o OUTFOLDER FILES...: bias, dark and flat (and overscan, trim, gain, noise, a
// bad-pixel mask) for each raw frame, one ccd_process pass per file, written under the same
// name; reading, the pass and writing overlap (ccdx::process_files). Sections and numbers may
// come from each frame's header (--oscan @BIASSEC, --gain @GAIN).

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <xtensor/xbuilder.hpp>

#include <ccdx/core/detail/text.hpp>
#include <ccdx/core/mask.hpp>
#include <ccdx/io/fits.hpp>
#include <ccdx/reduce/process_files.hpp>

#include "common.hpp"
#include "frames.hpp"
#include "header_values.hpp"

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

// --oscan-model poly:N, a polynomial of degree N fitted to the row levels.
std::optional<unsigned> oscan_degree(const std::string& text)
{
    if (text.empty()) return std::nullopt;
    const auto n = text.rfind("poly:", 0) == 0 ? detail::parse_number<int>(text.substr(5)) : std::nullopt;
    if (!n || *n < 0 || *n > 20) throw value_error("--oscan-model wants poly:N with N from 0 to 20, got '" + text + "'");
    return static_cast<unsigned>(*n);
}

// A bad-pixel mask: nonzero pixels of a FITS image (as ccdx mask writes it) are bad.
xt::xtensor<mask_t, 2> bad_pixels(const std::string& text)
{
    const fits_input in = split_hdu(text);
    read_options r = at_hdu({}, in);
    r.unit = unit();
    r.uncertainty_hdu = r.mask_hdu = "";
    const image<float> m = read_fits<float>(in.file, r);
    xt::xtensor<mask_t, 2> bad = xt::zeros<mask_t>(m.data().shape());
    for (std::size_t i = 0; i < bad.size(); ++i) bad.data()[i] = m.data().data()[i] != 0 ? mask_t(1) : mask_t(0);
    return bad;
}

}  // namespace

void add_reduce(CLI::App& app)
{
    struct options {
        std::vector<std::string> files, where;
        std::string out, bias, dark, flat, exposure_key, exposure_unit = "s", oscan, trim, unit, hdu, gain, readnoise;
        std::string oscan_method = "median", oscan_model, mask, suffix;
        std::optional<double> min_value;
        bool overwrite = false, no_dark_scale = false, compress = false;
    };
    auto o = std::make_shared<options>();
    auto* cmd = app.add_subcommand("reduce", "Calibrate raw frames: overscan, trim, gain, bias, dark, flat (one pass each)");
    cmd->add_option("files", o->files, "Raw FITS frames: files, folders or globs")->required();
    add_where(cmd, o->where);
    add_hdu(cmd, o->hdu);
    cmd->add_option("-o,--output", o->out, "Folder for the reduced frames (same file names)")->required();
    cmd->add_option("--bias", o->bias, "Master bias (FILE, or FILE[HDU])");
    cmd->add_option("--dark", o->dark, "Master dark, bias-subtracted (FILE, or FILE[HDU])");
    cmd->add_option("--exposure-key", o->exposure_key,
                    "Header keyword of the exposure time: scale the dark by the ratio of exposure times");
    cmd->add_flag("--no-dark-scale", o->no_dark_scale,
                  "Subtract the dark as it is, whatever the frames' and the dark's exposure times");
    cmd->add_option("--exposure-unit", o->exposure_unit, "Unit of the exposure keyword's values")->capture_default_str();
    cmd->add_option("--flat", o->flat, "Master flat, normalised by its mean (FILE, or FILE[HDU])");
    cmd->add_option("--min-value", o->min_value, "Raise flat values below this to it before normalising");
    cmd->add_option("--mask", o->mask, "Bad-pixel mask of the trimmed shape: nonzero pixels are bad (FILE, or FILE[HDU])");
    cmd->add_option("--gain", o->gain,
                    "Gain in electron / adu, or @KEY for each frame's header keyword (e.g. @GAIN): the result is in electrons");
    cmd->add_option("--readnoise", o->readnoise,
                    "Read noise in electrons, or @KEY (e.g. @RDNOISE); with --gain: add the uncertainty");
    cmd->add_option("--oscan", o->oscan, "Overscan section, FITS style, e.g. '[2049:2080,1:2048]', or @KEY (e.g. @BIASSEC)");
    cmd->add_option("--oscan-method", o->oscan_method, "Level of each overscan row: median or mean")
        ->check(CLI::IsMember({"median", "mean"}))
        ->capture_default_str();
    cmd->add_option("--oscan-model", o->oscan_model, "Smooth the overscan levels by a polynomial: poly:N (degree N)");
    cmd->add_option("--trim", o->trim, "Section to keep, FITS style, e.g. '[1:2048,1:2048]', or @KEY (e.g. @TRIMSEC)");
    cmd->add_option("--unit", o->unit, "Unit for files that have no BUNIT (e.g. adu)");
    cmd->add_flag("--compress", o->compress,
                  "Tile-compress the outputs, losslessly (GZIP for the values, RICE for the mask); names end in .fz");
    cmd->add_option("--suffix", o->suffix, "Add this to each output's name before its FITS ending (e.g. _red)");
    cmd->add_flag("--overwrite", o->overwrite, "Replace outputs that exist");
    cmd->callback([o] {
        if (!o->readnoise.empty() && o->gain.empty()) throw value_error("--readnoise needs --gain to make the uncertainty");
        if (!o->exposure_key.empty() && o->dark.empty()) throw value_error("--exposure-key is for scaling a --dark");
        if (!o->exposure_key.empty() && o->no_dark_scale)
            throw value_error("--exposure-key scales the dark and --no-dark-scale does not: give one of them");
        read_options r;
        if (!o->unit.empty()) r.unit_if_none = unit(o->unit);
        const std::vector<fs::path> files = chosen_frames(o->files, o->where, r, o->hdu);
        const fs::path folder = o->out;
        fs::create_directories(folder);
        process_files_options run;
        run.output_folder = folder;
        run.read = r;
        run.suffix = o->suffix;
        run.write.overwrite = o->overwrite;
        run.write.compress = o->compress;
        // In the flag's words; process_files checks every output again before it reads, and
        // names an output that would replace its own input.
        for (const auto& f : files) {
            const fs::path out = folder / detail::output_name(f, run);
            if (!(fs::exists(out) && fs::equivalent(out, f))) check_output(out, o->overwrite);
        }

        // A master is read at the HDU its name gives, else its default one.
        read_options for_masters = r;
        for_masters.hdu = {};
        const auto master = [&](const std::string& text) -> std::optional<image<float>> {
            if (text.empty()) return std::nullopt;
            const fits_input in = split_hdu(text);
            return read_fits<float>(in.file, at_hdu(for_masters, in));
        };
        const std::optional<image<float>> bias = master(o->bias), dark = master(o->dark), flat = master(o->flat);

        if (dark && o->exposure_key.empty() && !o->no_dark_scale)
            for (const auto& f : files) check_same_exposure(f, read_fits_header(f, r), dark->header());

        process_options<float> p;
        p.oscan_median = o->oscan_method == "median";
        p.oscan_fit_degree = oscan_degree(o->oscan_model);
        p.min_value = o->min_value;
        std::optional<xt::xtensor<mask_t, 2>> mask;
        if (!o->mask.empty()) p.bad_pixel_mask = &mask.emplace(bad_pixels(o->mask));
        if (bias) p.master_bias = &*bias;
        if (dark) p.dark_frame = &*dark;
        if (flat) p.master_flat = &*flat;
        if (!o->exposure_key.empty()) {
            p.dark.exposure_keyword = o->exposure_key;
            p.dark.exposure_unit = unit(o->exposure_unit);
            p.dark.scale = true;
        }
        p.error = !o->readnoise.empty();
        check_number(o->gain, "--gain");
        check_number(o->readnoise, "--readnoise");
        // Sections and numbers given as @KEY come from each frame's own header.
        const auto options_for = [o, p](const image<float>& raw) {
            process_options<float> q = p;
            const header& h = raw.header();
            q.oscan = section_in(o->oscan, h);
            q.trim = section_in(o->trim, h);
            if (!o->gain.empty()) q.gain = quantity_in(o->gain, h, unit("electron / adu"), "--gain");
            if (!o->readnoise.empty()) q.readnoise = quantity_in(o->readnoise, h, unit("electron"), "--readnoise");
            return q;
        };
        // Masters in the raw frames' unit take the gain after them; masters already in
        // electrons, before. A night's frames share their unit: the first one's decides.
        const image<float>* first_master = bias ? &*bias : dark ? &*dark : nullptr;
        if (first_master) {
            read_options unit_only = r;  // one pixel, for its unit
            unit_only.uncertainty_hdu = unit_only.mask_hdu = "";
            const unit raw = read_fits_section<float>(files.front(), section{{0, 1}, {0, 1}}, unit_only).unit();
            p.gain_corrected = first_master->unit() != raw;
        }

        progress bar("reducing");
        run.progress = [&](std::size_t done, std::size_t total, const fs::path& written) {
            bar.step(done, total, written.filename().string());
        };
        process_files<float>(files, options_for, run);
    });
}

}  // namespace ccdx::cli
