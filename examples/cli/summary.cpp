// ccdx summary FRAMES...: one row per FITS file, one column per header keyword.

#include <iostream>
#include <string>
#include <vector>

#include <ccdx/io/collection.hpp>

#include "common.hpp"
#include "frames.hpp"

namespace ccdx::cli {

void add_summary(CLI::App& app)
{
    struct options {
        std::vector<std::string> inputs;
        std::string hdu;
        std::vector<std::string> keywords;
        std::vector<std::string> include, exclude, where;
        bool csv = false;
        bool by_reading = false;
        std::size_t width = 40;
    };
    auto o = std::make_shared<options>();
    auto* cmd = app.add_subcommand("summary", "Table of header keywords of FITS files");
    cmd->add_option("frames", o->inputs, "A folder (its FITS files), or files, folders and globs")->required();
    cmd->add_option("-k,--keywords", o->keywords, "Keywords to show, comma separated; * for all (the default)")->delimiter(',');
    cmd->add_flag("--csv", o->csv, "Write CSV instead of an aligned table");
    add_hdu(cmd, o->hdu);
    cmd->add_option("--include", o->include, "Only files whose name matches one of these globs")->delimiter(',');
    cmd->add_option("--exclude", o->exclude, "Leave out files whose name matches one of these globs")->delimiter(',');
    add_where(cmd, o->where);
    cmd->add_flag("--find-by-reading", o->by_reading, "Find FITS files by their content, not their name");
    cmd->add_option("--width", o->width, "Cut table cells longer than this (aligned table only)")->capture_default_str();
    cmd->callback([o] {
        collection_options opts;
        opts.include = o->include;
        opts.exclude = o->exclude;
        opts.find_by_reading = o->by_reading;
        // One folder is listed as a collection (its endings, --include, --exclude); anything
        // else is the frames it names, in order, their paths in the file column.
        std::error_code ec;
        const bool folder = o->inputs.size() == 1 && fs::is_directory(o->inputs[0], ec);
        if (!folder && !(o->include.empty() && o->exclude.empty() && !o->by_reading))
            throw value_error("--include, --exclude and --find-by-reading list a folder: give one folder");
        const image_collection files =
            folder ? image_collection(o->inputs[0], [&] {
                collection_options with_hdu = opts;
                if (!o->hdu.empty()) with_hdu.read.hdu = hdu_from_text(o->hdu);
                return with_hdu;
            }()).filter(where_conditions(o->where))
                   : image_collection::from_files(chosen_frames(o->inputs, o->where, opts.read, o->hdu), opts);
        const auto table = o->keywords.empty() ? files.summary() : files.summary(o->keywords);
        if (o->csv)
            table.write_csv(std::cout);
        else
            table.print(std::cout, o->width);
    });
}

}  // namespace ccdx::cli
