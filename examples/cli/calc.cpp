// ccdx calc 'FORMULA' NAME=FILE... -o OUT.fits: a reduction formula given at run time.

#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include <ccdx/expr/formula.hpp>
#include <ccdx/io/fits.hpp>

#include "common.hpp"
#include "frames.hpp"

namespace ccdx::cli {

namespace {

template <class T>
void run_calc(const formula& f, const std::vector<std::pair<std::string, std::string>>& operands,
              const std::optional<unit>& fallback_unit, const fs::path& out, bool overwrite)
{
    std::map<std::string, image<T>, std::less<>> images;
    progress bar("reading");
    std::size_t done = 0;
    for (const auto& [name, file] : operands) {
        bar.step(++done, operands.size(), file);
        const fits_input in = split_hdu(file);
        read_options r = at_hdu({}, in);
        if (fallback_unit && !read_fits_header(in.file, r).contains("BUNIT")) r.unit = fallback_unit;
        images.emplace(name, read_fits<T>(in.file, r));
    }
    bar.finish();
    image<T> result = f.evaluate(images);
    result.header().add_history("ccdx calc: " + f.to_string());
    write_options w;
    w.overwrite = overwrite;
    w.bitpix = std::is_same_v<T, double> ? write_options::pixel_type::float64 : write_options::pixel_type::float32;
    write_fits(result, out, w);
}

}  // namespace

void add_calc(CLI::App& app)
{
    struct options {
        std::string text;
        std::vector<std::string> operands;
        std::string out;
        std::string unit;
        bool overwrite = false;
        bool use_double = false;
    };
    auto o = std::make_shared<options>();
    auto* cmd = app.add_subcommand(
        "calc", "Evaluate a formula over FITS images, propagating uncertainty and mask, e.g.\n"
                "  ccdx calc '(raw - bias - dark * 0.3) / flat' raw=r.fits bias=b.fits dark=d.fits flat=f.fits -o out.fits\n"
                "Operators + - * / and parentheses; functions sqrt, abs, square, min, max, clip(e, lo, hi),\n"
                "mean, median (scalars in the unit of their argument: '(raw - bias) / (flat / mean(flat))');\n"
                "conditions < <= > >= == != && || ! is_nan is_masked, used by where(c, a, b), mark(e, c, bits)\n"
                "and replace(e, c, value); numbers may carry a unit in brackets: 'raw * 1.5[electron / adu]',\n"
                "and a bare number takes the unit of what it meets: 'raw - 100' is in adu.");
    cmd->add_option("formula", o->text, "The formula")->required();
    cmd->add_option("operands", o->operands, "NAME=FILE (or NAME=FILE[HDU]) for each name in the formula")->required();
    cmd->add_option("-o,--output", o->out, "Output FITS file")->required();
    cmd->add_option("--unit", o->unit, "Unit for input files that have no BUNIT (e.g. adu)");
    cmd->add_flag("--double", o->use_double, "Compute and write in double precision (default: float)");
    cmd->add_flag("--overwrite", o->overwrite, "Replace the output if it exists");
    cmd->callback([o] {
        const formula f(o->text);
        std::vector<std::pair<std::string, std::string>> operands;
        std::set<std::string> given;
        for (const auto& arg : o->operands) {
            const auto eq = arg.find('=');
            if (eq == std::string::npos || eq == 0 || eq + 1 == arg.size())
                throw value_error("operand '" + arg + "' is not NAME=FILE");
            const std::string name = arg.substr(0, eq);
            if (!given.insert(name).second) throw value_error("operand '" + name + "' is given twice");
            if (std::find(f.operands().begin(), f.operands().end(), name) == f.operands().end())
                throw value_error("operand '" + name + "' is not used in the formula '" + f.to_string() + "'");
            operands.emplace_back(name, arg.substr(eq + 1));
        }
        for (const auto& name : f.operands())
            if (!given.count(name)) throw value_error("no file given for '" + name + "': add " + name + "=FILE");
        check_output(o->out, o->overwrite);
        std::optional<unit> fallback;
        if (!o->unit.empty()) fallback = unit(o->unit);
        if (o->use_double)
            run_calc<double>(f, operands, fallback, o->out, o->overwrite);
        else
            run_calc<float>(f, operands, fallback, o->out, o->overwrite);
    });
}

}  // namespace ccdx::cli
