// ccdx: CCD reduction from the command line, built from the same headers as the library.
//
//   ccdx summary FRAMES... [--keywords k1,k2] [--csv] [--where KEY=VALUE]...
//   ccdx combine -o OUT.fits --method median FRAMES... [--where KEY=VALUE]...
//   ccdx reduce -o OUTFOLDER --bias B --dark D --flat F FRAMES... [--where KEY=VALUE]...
//        [--oscan @BIASSEC --gain @GAIN ...]   (@KEY: from each frame's header)
//   (FRAMES: files, folders or globs; FILE[2], FILE[SCI,1] or --hdu choose an HDU)
//   ccdx calc '(raw - bias) / flat' raw=a.fits bias=b.fits flat=f.fits -o out.fits
//   ccdx preview IN.fits -o OUT.png
//   ccdx cosmic -o OUTFOLDER FRAMES... [--method lacosmic|median]
//   ccdx mask -o BAD.fits FLAT_A.fits FLAT_B.fits   (ccdmask of their ratio)
//   ccdx night RAW_FOLDER -o OUT [--dry-run]        (masters, reduced lights, manifest)

#include <algorithm>
#include <csignal>
#include <exception>
#include <iostream>
#include <string>

#include <ccdx/core/version.hpp>

#include "common.hpp"

int main(int argc, char** argv)
{
    // A file-size limit (ulimit -f) then fails the write with a clear error instead of killing ccdx.
    std::signal(SIGXFSZ, SIG_IGN);
    CLI::App app{"ccdx: CCD image reduction (bias, dark, flat, combine) with uncertainty and mask", "ccdx"};
    app.require_subcommand(1);
    app.set_version_flag("--version", "ccdx " CCDX_VERSION_STRING);
    ccdx::cli::add_summary(app);
    ccdx::cli::add_combine(app);
    ccdx::cli::add_reduce(app);
    ccdx::cli::add_calc(app);
    ccdx::cli::add_preview(app);
    ccdx::cli::add_cosmic(app);
    ccdx::cli::add_mask(app);
    ccdx::cli::add_night(app);
    try {
        // CLI11 would only say that a subcommand is required; name the word it did not know.
        const std::string first = argc > 1 ? argv[1] : "-";
        const auto subs = app.get_subcommands([](const CLI::App*) { return true; });
        if (first[0] != '-' && std::none_of(subs.begin(), subs.end(), [&](const CLI::App* s) { return s->get_name() == first; }))
            throw ccdx::error(std::string("unknown command '") + argv[1] +
                              "' (commands: summary, combine, reduce, calc, preview, cosmic, mask, night)");
        app.parse(argc, argv);
    } catch (const CLI::CallForHelp& e) {
        return app.exit(e);
    } catch (const CLI::CallForAllHelp& e) {
        return app.exit(e);
    } catch (const CLI::CallForVersion& e) {
        return app.exit(e);
    } catch (const CLI::ParseError& e) {
        // One line: what was wrong; --help tells the rest.
        std::cerr << "ccdx: error: " << e.what() << " (see --help)\n";
        return 2;
    } catch (const std::exception& e) {
        std::cerr << "ccdx: error: " << ccdx::cli::in_flags(e.what()) << '\n';
        return 1;
    }
    return 0;
}
