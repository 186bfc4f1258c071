// ccdx night RAW_FOLDER -o OUT: a whole night as the ccdproc reduction guide does it by hand.
// The frames are grouped by IMAGETYP, FILTER and exposure time; then
//   masters/bias.fits                the biases combined (average, 5σ clip about the median, MAD);
//   masters/dark_<t>s.fits           the darks of each exposure combined, minus the bias;
//   flats/<name>                     each flat minus the bias and the nearest dark, scaled;
//   masters/flat_<filter>.fits       those combined, each brought to a median of 1 first;
//   reduced/<name>                   each light: bias, nearest dark scaled, its filter's flat
//                                    (then cosmic rays, when asked);
//   previews/<name>.png, night.csv and night.json (every output, its inputs, masters, formula).
//
// Combining the raw darks and then subtracting the bias gives the pixels of subtracting it
// from each dark first (clipping about the median with the MAD does not move with a constant
// per pixel), streams the darks under --memory-limit, and adds the bias's uncertainty to the
// master once: it is the same in every dark, so averaging does not shrink it.

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include <ccdx/detect/cosmicray.hpp>
#include <ccdx/display/preview.hpp>
#include <ccdx/io/collection.hpp>
#include <ccdx/io/detail/staged_file.hpp>
#include <ccdx/io/fits.hpp>
#include <ccdx/reduce/calibrate.hpp>
#include <ccdx/reduce/process_files.hpp>
#include <ccdx/stack/combine.hpp>

#include "common.hpp"
#include "frames.hpp"
#include "header_values.hpp"

namespace ccdx::cli {

namespace {

enum class frame_kind { bias, dark, flat, light };

// IMAGETYP as cameras spell it: "Bias Frame", "zero", "Dark", "Flat Field", "object", "Light Frame".
std::optional<frame_kind> kind_of(const std::string& imagetyp)
{
    const std::string t = detail::lowercase(imagetyp);
    const auto has = [&](const char* word) { return t.find(word) != std::string::npos; };
    if (has("bias") || has("zero")) return frame_kind::bias;
    if (has("dark")) return frame_kind::dark;
    if (has("flat")) return frame_kind::flat;
    if (has("light") || has("object") || has("science")) return frame_kind::light;
    return std::nullopt;
}

// An exposure time as a file name takes it: 30, 0.5, 120.
std::string exposure_text(double t)
{
    char buffer[32];
    std::snprintf(buffer, sizeof buffer, "%g", t);
    return buffer;
}

// A filter name as a file name takes it.
std::string file_safe(const std::string& text)
{
    std::string out;
    for (const char c : text) out += std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.' ? c : '_';
    return out.empty() ? "none" : out;
}

struct night_plan {
    std::string exposure_key, filter_key;
    std::vector<fs::path> bias;
    std::map<double, std::vector<fs::path>> darks;        // by exposure
    std::map<std::string, std::vector<fs::path>> flats;  // by filter
    std::vector<fs::path> lights;
    std::map<fs::path, std::string> filter_of;
    std::map<fs::path, double> exposure_of;
    std::vector<std::pair<std::string, std::string>> skipped;  // file, why
};

// One line of the manifest.
struct output_record {
    std::string output, kind, inputs, masters, formula;
};

std::string joined(const std::vector<fs::path>& files)
{
    std::string out;
    for (const auto& f : files) out += (out.empty() ? "" : ";") + f.filename().string();
    return out;
}

std::string json_string(const std::string& s)
{
    std::string out = "\"";
    for (const char c : s) {
        if (c == '"' || c == '\\') out += '\\';
        if (static_cast<unsigned char>(c) < 0x20) {
            char buffer[8];
            std::snprintf(buffer, sizeof buffer, "\\u%04x", c);
            out += buffer;
        } else {
            out += c;
        }
    }
    return out + "\"";
}

void write_text(const fs::path& path, const std::string& text, bool overwrite)
{
    detail::staged_file<error> out(path, "manifest");
    out.write(text.data(), text.size());
    out.commit(overwrite);
}

// The exposure keyword: the one given, else EXPTIME, else EXPOSURE (frames without it are skipped).
std::string exposure_keyword(const image_collection& frames, const std::string& given)
{
    if (!given.empty()) return given;
    for (const char* k : {"EXPTIME", "EXPOSURE"})
        if (std::any_of(frames.begin(), frames.end(), [&](const auto& e) { return e.header.contains(k); })) return k;
    throw keyword_error("no frame has EXPTIME or EXPOSURE: give the exposure keyword with --exposure-key");
}

night_plan make_plan(const image_collection& frames, const std::string& imagetyp_key, const std::string& filter_key,
                     const std::string& exposure_key)
{
    night_plan p;
    p.filter_key = filter_key;
    p.exposure_key = exposure_keyword(frames, exposure_key);
    for (const auto& [file, why] : frames.skipped()) p.skipped.emplace_back(file, why);
    for (const auto& e : frames) {
        const fs::path path = frames.location() / e.file;
        const auto skip = [&](const std::string& why) { p.skipped.emplace_back(e.file, why); };
        const auto type = e.header.get<std::string>(imagetyp_key);
        const auto kind = type ? kind_of(*type) : std::nullopt;
        if (!kind) {
            skip(type ? imagetyp_key + " '" + *type + "' is not a bias, dark, flat or light" : "no " + imagetyp_key);
            continue;
        }
        double t = 0;
        bool timed = false;
        try {
            const auto v = e.header.get<double>(p.exposure_key);
            timed = v.has_value();
            t = v.value_or(0.0);
        } catch (const keyword_error&) {  // not a number: no exposure time
        }
        if (*kind != frame_kind::bias && !timed) {
            skip("no exposure time (" + p.exposure_key + ")");
            continue;
        }
        const std::string filter = e.header.get<std::string>(filter_key).value_or("");
        p.filter_of[path] = filter;
        if (timed) p.exposure_of[path] = t;
        switch (*kind) {
        case frame_kind::bias: p.bias.push_back(path); break;
        case frame_kind::dark: p.darks[t].push_back(path); break;
        case frame_kind::flat: p.flats[filter].push_back(path); break;
        case frame_kind::light: p.lights.push_back(path); break;
        }
    }
    return p;
}

// The dark whose exposure is nearest `t` (the longer of two as near).
template <class Map>
const typename Map::mapped_type* nearest(const Map& darks, double t)
{
    const typename Map::mapped_type* best = nullptr;
    double distance = 0;
    for (const auto& [exposure, dark] : darks)
        if (!best || std::abs(exposure - t) <= distance) best = &dark, distance = std::abs(exposure - t);
    return best;
}

// The formula ccd_process recorded: the last HISTORY card.
std::string formula_of(const header& h)
{
    const auto history = h.history();
    return history.empty() ? "" : history.back();
}

}  // namespace

void add_night(CLI::App& app)
{
    struct options {
        std::string folder, out, imagetyp_key = "IMAGETYP", filter_key = "FILTER", exposure_key, exposure_unit = "s";
        std::string unit = "adu", gain, readnoise, cosmic = "none", memory = "1G";
        double clip = 5;
        bool keep_going = false, dry_run = false, no_previews = false, overwrite = false;
    };
    auto o = std::make_shared<options>();
    auto* cmd = app.add_subcommand("night", "Reduce a night: master bias, darks and flats, then every light, with a manifest");
    cmd->add_option("folder", o->folder, "Folder of the night's raw frames")->required();
    cmd->add_option("-o,--output", o->out, "Folder for masters, calibrated flats, reduced lights, previews, manifest")
        ->required();
    cmd->add_option("--imagetyp-key", o->imagetyp_key, "Keyword of the frame type (bias, dark, flat, light)")
        ->capture_default_str();
    cmd->add_option("--filter-key", o->filter_key, "Keyword of the filter")->capture_default_str();
    cmd->add_option("--exposure-key", o->exposure_key, "Keyword of the exposure time (default: EXPTIME or EXPOSURE)");
    cmd->add_option("--exposure-unit", o->exposure_unit, "Unit of the exposure times")->capture_default_str();
    cmd->add_option("--unit", o->unit, "Unit of frames without BUNIT")->capture_default_str();
    cmd->add_option("--gain", o->gain, "Gain of the lights in electron / adu, or @KEY: reduced lights in electrons");
    cmd->add_option("--readnoise", o->readnoise, "Read noise in electrons, or @KEY; with --gain: the lights' uncertainty");
    cmd->add_option("--clip", o->clip, "Sigma clipping of the masters, in MAD-standard deviations about the median")
        ->capture_default_str();
    cmd->add_option("--cosmic", o->cosmic, "Cosmic rays in the reduced lights: none, lacosmic or median")
        ->check(CLI::IsMember({"none", "lacosmic", "median"}))
        ->capture_default_str();
    cmd->add_option("--memory-limit", o->memory, "Pixels held at once by each combine, e.g. 2G")->capture_default_str();
    cmd->add_flag("--keep-going", o->keep_going, "Reduce without a bias, or a filter without a flat, instead of refusing");
    cmd->add_flag("--dry-run", o->dry_run, "Print the plan; read no pixels, write nothing");
    cmd->add_flag("--no-previews", o->no_previews, "Write no PNG previews");
    cmd->add_flag("--overwrite", o->overwrite, "Replace outputs that exist");
    cmd->callback([o] {
        check_number(o->gain, "--gain");
        check_number(o->readnoise, "--readnoise");
        if (!o->readnoise.empty() && o->gain.empty()) throw value_error("--readnoise needs --gain to make the uncertainty");
        collection_options c;
        c.read.unit_if_none = unit(o->unit);
        const image_collection frames(o->folder, c);
        const night_plan plan = make_plan(frames, o->imagetyp_key, o->filter_key, o->exposure_key);

        std::vector<std::string> without_flat;
        for (const auto& light : plan.lights) {
            const std::string& f = plan.filter_of.at(light);
            if (!plan.flats.count(f) && std::find(without_flat.begin(), without_flat.end(), f) == without_flat.end())
                without_flat.push_back(f);
        }
        const fs::path out = o->out, masters = out / "masters", flats_dir = out / "flats", reduced = out / "reduced",
                       previews = out / "previews";
        const fs::path bias_file = masters / "bias.fits";
        const auto dark_file = [&](double t) { return masters / ("dark_" + exposure_text(t) + "s.fits"); };
        const auto flat_file = [&](const std::string& f) { return masters / ("flat_" + file_safe(f) + ".fits"); };

        std::ostringstream text;
        text << "night of '" << o->folder << "' (" << frames.size() << " frames, exposure keyword " << plan.exposure_key
             << ")\n";
        text << "  bias: " << plan.bias.size() << " frames -> " << (plan.bias.empty() ? "none" : bias_file.string()) << '\n';
        for (const auto& [t, d] : plan.darks) text << "  dark " << exposure_text(t) << " s: " << d.size() << " frames -> " << dark_file(t).string() << '\n';
        for (const auto& [f, d] : plan.flats) text << "  flat '" << f << "': " << d.size() << " frames -> " << flat_file(f).string() << '\n';
        text << "  lights: " << plan.lights.size() << " frames -> " << reduced.string() << '\n';
        for (const auto& f : without_flat) text << "  lights in filter '" << f << "' have no flat: reduced without one\n";
        if (plan.darks.empty()) text << "  no darks: lights reduced without dark subtraction\n";
        for (const auto& [file, why] : plan.skipped) text << "  skipped " << file << ": " << why << '\n';
        // A dry run shows the plan, then refuses as the run would.
        if (o->dry_run) std::cout << text.str() << std::flush;
        // Refusals, before anything is read or written.
        if (plan.bias.empty() && !o->keep_going)
            throw value_error("no bias frames (" + o->imagetyp_key + " bias or zero) in '" + o->folder +
                              "'; add --keep-going to reduce without a bias");
        if (!without_flat.empty() && !o->keep_going) {
            std::string list;
            for (const auto& f : without_flat) list += (list.empty() ? "'" : ", '") + f + "'";
            throw value_error("no flat for filter " + list + " (" + o->filter_key +
                              "); add --keep-going to reduce those lights without a flat");
        }

        if (o->dry_run) return;

        // Every output checked before the first pixel is read.
        std::vector<fs::path> planned{out / "night.csv", out / "night.json"};
        if (!plan.bias.empty()) planned.push_back(bias_file);
        for (const auto& [t, d] : plan.darks) planned.push_back(dark_file(t));
        for (const auto& [f, files] : plan.flats) {
            planned.push_back(flat_file(f));
            for (const auto& file : files) planned.push_back(flats_dir / detail::output_name(file, {}));
        }
        for (const auto& l : plan.lights) planned.push_back(reduced / detail::output_name(l, {}));
        for (const auto& p : planned)
            if (fs::exists(p) && !o->overwrite) throw error("'" + p.string() + "' exists; add --overwrite to replace it");
        for (const auto& d : {masters, flats_dir, reduced}) fs::create_directories(d);
        if (!o->no_previews) fs::create_directories(previews);

        std::vector<output_record> records;
        preview_options look;
        look.overwrite = o->overwrite;
        const auto preview = [&](const image<float>& img, const fs::path& file) {
            if (!o->no_previews) write_preview(img, previews / (file.stem().string() + ".png"), look);
        };
        combine_options master;
        sigma_clip clip;
        clip.low = clip.high = o->clip;
        clip.center = clip_center::median;
        clip.deviation = clip_deviation::mad_std;
        master.sigma_clip = clip;
        master.memory_limit = memory_size(o->memory);
        master.read = c.read;
        master.write.overwrite = o->overwrite;
        const std::string clipped = "average, " + exposure_text(o->clip) + " sigma clip about the median (MAD)";
        progress bar("night");

        std::optional<image<float>> bias;
        if (!plan.bias.empty()) {
            bar.step(0, 1, "bias");
            master.output = bias_file;
            bias = combine<float>(plan.bias, master);
            bias->set_name("bias");  // the formulas name the masters
            preview(*bias, bias_file);
            records.push_back({bias_file.string(), "master bias", joined(plan.bias), "", clipped});
        }
        std::map<double, image<float>> darks;
        for (const auto& [t, files] : plan.darks) {
            bar.step(0, 1, "dark " + exposure_text(t) + " s");
            master.output.clear();
            image<float> dark = combine<float>(files, master);
            if (bias) dark = image<float>(subtract_bias(dark, *bias));
            dark.set_name(dark_file(t).stem().string());
            write_options w;
            w.overwrite = o->overwrite;
            write_fits(dark, dark_file(t), w);
            preview(dark, dark_file(t));
            records.push_back({dark_file(t).string(), "master dark", joined(files), bias ? bias_file.string() : "",
                               clipped + (bias ? ", minus the bias" : "")});
            darks.emplace(t, std::move(dark));
        }

        // Each frame's exposure picks its dark (the nearest, scaled by the ratio of exposures).
        process_options<float> calibration;
        calibration.gain_corrected = false;
        if (bias) calibration.master_bias = &*bias;
        calibration.dark.exposure_keyword = plan.exposure_key;
        calibration.dark.exposure_unit = unit(o->exposure_unit);
        calibration.dark.scale = true;
        const auto with_dark = [&](process_options<float> q, const image<float>& raw) {
            if (!darks.empty()) q.dark_frame = nearest(darks, raw.header().value<double>(plan.exposure_key));
            return q;
        };
        const auto dark_of = [&](const fs::path& frame) -> std::string {
            const image<float>* chosen = nearest(darks, plan.exposure_of.at(frame));
            for (const auto& [exposure, dark] : darks)
                if (&dark == chosen) return ";" + dark_file(exposure).string();
            return "";
        };

        std::map<std::string, image<float>> flats;
        for (const auto& [f, files] : plan.flats) {
            bar.step(0, 1, "flat " + f);
            process_files_options run;
            run.output_folder = flats_dir;
            run.read = c.read;
            run.write.overwrite = o->overwrite;
            const std::vector<fs::path> calibrated = process_files<float>(
                files, [&](const image<float>& raw) { return with_dark(calibration, raw); }, run);
            for (std::size_t i = 0; i < files.size(); ++i)
                records.push_back({calibrated[i].string(), "calibrated flat", files[i].filename().string(),
                                   (bias ? bias_file.string() : "") + dark_of(files[i]),
                                   formula_of(read_fits_header(calibrated[i]))});
            combine_options flat_options = master;
            flat_options.scale_function = inverse_median;
            flat_options.output = flat_file(f);
            flats.emplace(f, combine<float>(calibrated, flat_options));
            flats.at(f).set_name(flat_file(f).stem().string());
            preview(flats.at(f), flat_file(f));
            records.push_back({flat_file(f).string(), "master flat", joined(calibrated), "",
                               clipped + ", each scaled to a median of 1"});
        }

        process_options<float> science = calibration;
        if (!o->readnoise.empty()) science.error = true;
        process_files_options run;
        run.output_folder = reduced;
        run.read = c.read;
        run.write.overwrite = true;  // checked above; cosmic-ray cleaning rewrites them
        run.progress = [&](std::size_t done, std::size_t total, const fs::path& written) {
            bar.step(done, total, written.filename().string());
        };
        const std::vector<fs::path> lights = process_files<float>(
            plan.lights,
            [&](const image<float>& raw) {
                process_options<float> q = with_dark(science, raw);
                const auto flat = flats.find(raw.header().get<std::string>(plan.filter_key).value_or(""));
                q.master_flat = flat == flats.end() ? nullptr : &flat->second;
                if (!o->gain.empty()) q.gain = quantity_in(o->gain, raw.header(), unit("electron / adu"), "--gain");
                if (!o->readnoise.empty()) q.readnoise = quantity_in(o->readnoise, raw.header(), unit("electron"), "--readnoise");
                return q;
            },
            run);
        for (std::size_t i = 0; i < lights.size(); ++i) {
            image<float> img = read_fits<float>(lights[i]);
            std::string formula = formula_of(img.header());
            if (o->cosmic != "none") {
                lacosmic_options la;
                la.gain_apply = false;
                la.gain = quantity(1.0);
                if (!o->readnoise.empty()) la.readnoise = quantity_in(o->readnoise, img.header(), unit("electron"), "--readnoise");
                img = o->cosmic == "median" ? cosmicray_median(img) : cosmicray_lacosmic(img, la);
                write_options w;
                w.overwrite = true;
                write_fits(img, lights[i], w);
                formula += "; cosmic rays by " + o->cosmic;
            }
            preview(img, lights[i]);
            const std::string filter = plan.filter_of.at(plan.lights[i]);
            std::string used = (bias ? bias_file.string() : "") + dark_of(plan.lights[i]);
            if (flats.count(filter)) used += ";" + flat_file(filter).string();
            records.push_back({lights[i].string(), "reduced light", plan.lights[i].filename().string(),
                               used.rfind(';', 0) == 0 ? used.substr(1) : used, formula});
        }
        bar.finish();

        std::vector<std::vector<std::string>> rows;
        std::ostringstream json;
        json << "{\n  \"night\": " << json_string(o->folder) << ",\n  \"outputs\": [";
        for (std::size_t i = 0; i < records.size(); ++i) {
            const auto& r = records[i];
            rows.push_back({r.output, r.kind, r.inputs, r.masters, r.formula});
            json << (i ? "," : "") << "\n    {\"output\": " << json_string(r.output) << ", \"kind\": " << json_string(r.kind)
                 << ", \"inputs\": " << json_string(r.inputs) << ", \"masters\": " << json_string(r.masters)
                 << ", \"formula\": " << json_string(r.formula) << "}";
        }
        json << "\n  ],\n  \"skipped\": [";
        for (std::size_t i = 0; i < plan.skipped.size(); ++i)
            json << (i ? "," : "") << "\n    {\"file\": " << json_string(plan.skipped[i].first)
                 << ", \"reason\": " << json_string(plan.skipped[i].second) << "}";
        json << "\n  ]\n}\n";
        std::ostringstream csv;
        summary_table({"output", "kind", "inputs", "masters", "formula"}, rows).write_csv(csv);
        write_text(out / "night.csv", csv.str(), o->overwrite);
        write_text(out / "night.json", json.str(), o->overwrite);
        std::cout << text.str() << "wrote " << records.size() << " files and " << (out / "night.csv").string() << ", "
                  << (out / "night.json").string() << '\n';
    });
}

}  // namespace ccdx::cli
