// ccdx summary FOLDER: one row per FITS file, one column per header keyword.

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
        std::string folder;
        std::vector<std::string> keywords;
        std::vector<std::string> include, exclude, where;
        bool csv = false;
        bool by_reading = false;
        std::size_t width = 40;
    };
    auto o = std::make_shared<options>();
    auto* cmd = app.add_subcommand("summary", "Table of header keywords of the FITS files in a folder");
    cmd->add_option("folder", o->folder, "Folder holding the FITS files")->required();
    cmd->add_option("-k,--keywords", o->keywords, "Keywords to show, comma separated (default: all)")->delimiter(',');
    cmd->add_flag("--csv", o->csv, "Write CSV instead of an aligned table");
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
        const image_collection files = image_collection(o->folder, opts).filter(where_conditions(o->where));
        const auto table = files.summary(o->keywords);
        if (o->csv)
            table.write_csv(std::cout);
        else
            table.print(std::cout, o->width);
    });
}

}  // namespace ccdx::cli
