// The ccdx command line, run as a user runs it: the built program on small files, its outputs
// read back. CCDX_CLI (set by tests/cli.cmake) is the program's path.

#include <doctest/doctest.h>

#ifdef CCDX_CLI

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>
#include <vector>

#include <sys/wait.h>

#include <fitsio.h>

#include <ccdx/core/mask.hpp>
#include <ccdx/core/version.hpp>
#include <ccdx/io/fits.hpp>

namespace fs = std::filesystem;

namespace {

const fs::path& workdir()
{
    static const fs::path dir = [] {
        const fs::path d = fs::temp_directory_path() / "ccdx_test_cli";
        fs::remove_all(d);
        fs::create_directories(d);
        return d;
    }();
    return dir;
}

std::string slurp(const fs::path& p)
{
    std::ifstream f(p, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(f), {});
}

struct result {
    int status = -1;
    std::string out, err;
};

// Runs `ccdx ARGS` in the work folder (arguments are shell words: quote formulas), after the
// shell commands in `before` (e.g. "ulimit -f 4;").
result run(const std::string& args, const std::string& before = "")
{
    const fs::path out = workdir() / "stdout.txt", err = workdir() / "stderr.txt";
    const std::string cmd = "cd '" + workdir().string() + "' && " + before + "'" + std::string(CCDX_CLI) + "' " + args + " >'" +
                            out.string() + "' 2>'" + err.string() + "' </dev/null";
    const int rc = std::system(cmd.c_str());
    result r;
    r.status = WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
    r.out = slurp(out);
    r.err = slurp(err);
    return r;
}

// A failure: nonzero status and exactly one line on stderr that says why.
void check_fails(const result& r, const std::string& reason)
{
    CHECK(r.status != 0);
    CHECK(r.err.rfind("ccdx: error: ", 0) == 0);
    CHECK(r.err.find('\n') == r.err.size() - 1);
    CHECK_MESSAGE(r.err.find(reason) != std::string::npos, r.err);
}

// A 4 x 5 frame of one value with the given header cards.
void frame(const std::string& name, float value, std::vector<ccdx::card> cards = {}, const char* unit = "adu")
{
    ccdx::image<float> img(4, 5, ccdx::unit(unit));
    img.data().fill(value);
    for (auto& c : cards) img.header().set(c.keyword, c.value);
    ccdx::write_options w;
    w.overwrite = true;
    ccdx::write_fits(img, workdir() / name, w);
}

ccdx::image<double> read(const std::string& name) { return ccdx::read_fits<double>(workdir() / name); }

}  // namespace

TEST_CASE("every command has --help, and a bad command line fails with one line")
{
    for (const char* cmd : {"", "summary ", "combine ", "reduce ", "calc ", "preview ", "cosmic ", "mask ", "night "}) {
        const auto r = run(std::string(cmd) + "--help");
        CHECK(r.status == 0);
        CHECK(r.out.find("Usage") != std::string::npos);
    }
    check_fails(run(""), "subcommand");
    check_fails(run("frobnicate"), "unknown command 'frobnicate'");
    check_fails(run("preview in.fits -o in.png"), "in.fits");
    check_fails(run("combine a.fits -o out.fits"), "a.fits");
    frame("a.fits", 1);
    check_fails(run("combine a.fits"), "--output");
}

TEST_CASE("--version prints the library's version")
{
    const auto r = run("--version");
    CHECK(r.status == 0);
    CHECK(r.out == std::string("ccdx ") + CCDX_VERSION_STRING + "\n");
    CHECK(std::string(CCDX_VERSION_STRING) == std::to_string(CCDX_VERSION_MAJOR) + "." +
                                                 std::to_string(CCDX_VERSION_MINOR) + "." +
                                                 std::to_string(CCDX_VERSION_PATCH));
}

TEST_CASE("summary: a table of keywords, CSV, junk skipped with a warning, a missing folder an error")
{
    fs::create_directories(workdir() / "night");
    frame("night/bias.fits", 10, {{"IMAGETYP", std::string("BIAS"), ""}, {"EXPOSURE", 0.0, ""}});
    frame("night/light.fits", 100, {{"IMAGETYP", std::string("LIGHT"), ""}, {"EXPOSURE", 90.0, ""}, {"FILTER", std::string("r"), ""}});
    std::ofstream(workdir() / "night" / "junk.fits") << "not FITS";

    const auto table = run("summary night --keywords imagetyp,exposure,filter");
    CHECK(table.status == 0);
    CHECK(table.out.find("file        imagetyp  exposure  filter") == 0);
    CHECK(table.out.find("light.fits  LIGHT     90.0      r") != std::string::npos);
    CHECK(table.err.find("junk.fits") != std::string::npos);

    const auto csv = run("summary night -k imagetyp,filter --csv");
    CHECK(csv.status == 0);
    CHECK(csv.out == "file,imagetyp,filter\nbias.fits,BIAS,\nlight.fits,LIGHT,r\n");

    const auto all = run("summary night --csv --exclude 'j*'");
    CHECK(all.status == 0);
    CHECK(all.out.find("file,simple,bitpix") == 0);
    CHECK(all.err.empty());

    check_fails(run("summary no-such-folder"), "no-such-folder");

    // Files and globs, in the order given, with their paths; "*" among keywords is all of them.
    const auto listed = run("summary night/light.fits 'night/b*.fits' -k filter --csv");
    CHECK_MESSAGE(listed.status == 0, listed.err);
    CHECK(listed.out == "file,filter\nnight/light.fits,r\nnight/bias.fits,\n");
    const auto everything = run("summary night/light.fits -k filter,'*' --csv --where exposure=90");
    CHECK(everything.out.find("file,simple,bitpix") == 0);
    check_fails(run("summary night/light.fits --include 'l*'"), "give one folder");
}

TEST_CASE("frames chosen by header: --where on files, folders and globs")
{
    fs::create_directories(workdir() / "where");
    frame("where/b1.fits", 10, {{"IMAGETYP", std::string("BIAS"), ""}, {"EXPTIME", 0.0, ""}});
    frame("where/b2.fits", 20, {{"IMAGETYP", std::string("bias"), ""}, {"EXPTIME", 0, ""}});
    frame("where/d1.fits", 50, {{"IMAGETYP", std::string("DARK"), ""}, {"EXPTIME", 30.0, ""}});
    frame("where/l1.fits", 900, {{"IMAGETYP", std::string("LIGHT"), ""}, {"EXPTIME", 30.0, ""}, {"OBJECT", std::string("M13"), ""}});

    const auto biases = run("summary where -k imagetyp --csv --where imagetyp=BIAS");
    CHECK_MESSAGE(biases.status == 0, biases.err);
    CHECK(biases.out == "file,imagetyp\nb1.fits,BIAS\nb2.fits,bias\n");
    CHECK(run("summary where --csv -k exptime --where exptime=30 --where imagetyp!=dark").out ==
          "file,exptime\nl1.fits,30.0\n");
    CHECK(run("summary where --csv -k object --where 'object~^m[0-9]'").out == "file,object\nl1.fits,M13\n");
    CHECK(run("summary where --csv -k object --where object!=M13").out.find("l1.fits") == std::string::npos);

    // A folder, a quoted glob and plain files, each narrowed by the same conditions.
    CHECK(run("combine -o where_bias.fits -m average where --where imagetyp=bias").status == 0);
    CHECK(read("where_bias.fits").data()(0, 0) == doctest::Approx(15));
    CHECK(run("combine -o where_glob.fits -m sum 'where/*.fits' --where exptime=0").status == 0);
    CHECK(read("where_glob.fits").data()(0, 0) == doctest::Approx(30));
    CHECK(run("combine -o where_files.fits -m sum where/b1.fits where/d1.fits --where imagetyp=dark").status == 0);
    CHECK(read("where_files.fits").data()(0, 0) == doctest::Approx(50));
    const auto r = run("reduce -o where_out where --where imagetyp=light");
    CHECK_MESSAGE(r.status == 0, r.err);
    CHECK(fs::exists(workdir() / "where_out" / "l1.fits"));
    CHECK_FALSE(fs::exists(workdir() / "where_out" / "b1.fits"));

    check_fails(run("combine -o x.fits where --where imagetyp=flat"), "--where");
    check_fails(run("combine -o x.fits where --where imagetyp"), "KEY=VALUE");
    check_fails(run("combine -o x.fits 'where/*.fts'"), "no file matches 'where/*.fts'");
    check_fails(run("combine -o x.fits where/nothing.fits"), "nothing.fits");
    fs::create_directories(workdir() / "where_empty");
    check_fails(run("combine -o x.fits where_empty"), "where_empty");
    CHECK_FALSE(fs::exists(workdir() / "x.fits"));
}

TEST_CASE("combine: methods and rejections, streamed under a memory limit, no silent overwrite")
{
    frame("a.fits", 10);
    frame("b.fits", 20);
    frame("c.fits", 60);
    const std::string abc = " a.fits b.fits c.fits";
    CHECK(run("combine -o median.fits --method median" + abc).status == 0);
    CHECK(read("median.fits").data()(3, 4) == doctest::Approx(20));
    CHECK(run("combine -o average.fits" + abc).status == 0);
    CHECK(read("average.fits").data()(0, 0) == doctest::Approx(30));
    CHECK(read("average.fits").header().value<std::int64_t>("NCOMBINE") == 3);
    CHECK(run("combine -o sum.fits -m sum" + abc).status == 0);
    CHECK(read("sum.fits").data()(2, 2) == doctest::Approx(90));
    CHECK(run("combine -o minmax.fits --minmax 0,50" + abc).status == 0);
    CHECK(read("minmax.fits").data()(1, 1) == doctest::Approx(15));
    CHECK(run("combine -o extrema.fits --extrema 1,0" + abc).status == 0);
    CHECK(read("extrema.fits").data()(1, 1) == doctest::Approx(40));
    CHECK(run("combine -o scaled.fits --scale inverse-median" + abc).status == 0);
    CHECK(read("scaled.fits").data()(0, 3) == doctest::Approx(1));
    CHECK(run("combine -o banded.fits --memory-limit 300 -m median" + abc).status == 0);  // one row at a time
    CHECK(read("banded.fits").data() == read("median.fits").data());

    frame("d.fits", 10);
    frame("e.fits", 10);
    frame("f.fits", 10);
    frame("g.fits", 1000);
    CHECK(run("combine -o clipped.fits --sigma-clip 1,1 d.fits e.fits f.fits a.fits g.fits").status == 0);
    CHECK(read("clipped.fits").data()(0, 0) == doctest::Approx(10));

    check_fails(run("combine -o median.fits" + abc), "--overwrite");
    CHECK(run("combine -o median.fits --overwrite -m average" + abc).status == 0);
    CHECK(read("median.fits").data()(0, 0) == doctest::Approx(30));
    check_fails(run("combine -o x.fits --memory-limit 2X" + abc), "2X");
    check_fails(run("combine -o x.fits --sigma-clip 3" + abc), "--sigma-clip");
    check_fails(run("combine -o x.fits a.fits missing.fits"), "missing.fits");
    CHECK_FALSE(fs::exists(workdir() / "x.fits"));
}

TEST_CASE("errors name the flags, never the library's option names")
{
    {
        // 5 x 4 float zeros and no BUNIT.
        std::string h;
        for (const char* c : {"SIMPLE  =                    T", "BITPIX  =                  -32", "NAXIS   =                    2",
                              "NAXIS1  =                    5", "NAXIS2  =                    4", "END"})
            h += std::string(c) + std::string(80 - std::char_traits<char>::length(c), ' ');
        h.resize(2880, ' ');
        std::ofstream(workdir() / "unitless.fits", std::ios::binary) << h << std::string(2880, '\0');
    }
    const auto no_unit = run("combine -o unitless_sum.fits -m sum unitless.fits unitless.fits");
    CHECK(no_unit.status != 0);
    CHECK(no_unit.err.find("--unit") != std::string::npos);
    CHECK(no_unit.err.find("read_options") == std::string::npos);
    CHECK(run("combine -o unitless_sum.fits -m sum --unit adu unitless.fits unitless.fits").status == 0);
    // The limit is the input in flight, as ccdproc's: a tiny one works a row at a time.
    CHECK(run("combine -o tight.fits --memory-limit 10 unitless.fits unitless.fits --unit adu").status == 0);
    const auto nonsense = run("combine -o no.fits --memory-limit 10Q unitless.fits unitless.fits --unit adu");
    CHECK(nonsense.status != 0);
    CHECK(nonsense.err.find("--memory-limit wants a size") != std::string::npos);
}

TEST_CASE("reduce: one ccd_process per file, written under the same name")
{
    frame("raw1.fits", 100, {{"EXPOSURE", 10.0, ""}});
    frame("raw2.fits", 200, {{"EXPOSURE", 10.0, ""}});
    frame("bias.fits", 10);
    frame("dark.fits", 2, {{"EXPOSURE", 5.0, ""}});
    frame("flat.fits", 2);

    const auto r = run("reduce -o reduced --bias bias.fits --dark dark.fits --exposure-key exposure --flat flat.fits "
                        "raw1.fits raw2.fits");
    CHECK_MESSAGE(r.status == 0, r.err);
    const auto one = read("reduced/raw1.fits");
    CHECK(one.data()(0, 0) == doctest::Approx(100 - 10 - 2 * 2));  // dark scaled by 10 s / 5 s
    CHECK(read("reduced/raw2.fits").data()(3, 4) == doctest::Approx(200 - 10 - 4));
    CHECK(one.header().contains("SUBBIAS"));
    CHECK(one.header().contains("SUBDARK"));
    CHECK(one.header().contains("FLATCOR"));

    check_fails(run("reduce -o reduced --bias bias.fits raw1.fits"), "--overwrite");
    CHECK(read("reduced/raw1.fits").data()(0, 0) == doctest::Approx(86));  // untouched

    // A dark of another exposure is neither scaled nor subtracted as it is without being told.
    check_fails(run("reduce -o unscaled --bias bias.fits --dark dark.fits raw1.fits"), "--exposure-key EXPOSURE");
    CHECK_FALSE(fs::exists(workdir() / "unscaled" / "raw1.fits"));
    check_fails(run("reduce -o unscaled --dark dark.fits --exposure-key exposure --no-dark-scale raw1.fits"),
                "--no-dark-scale");
    CHECK(run("reduce -o unscaled --bias bias.fits --dark dark.fits --no-dark-scale raw1.fits").status == 0);
    CHECK(read("unscaled/raw1.fits").data()(0, 0) == doctest::Approx(88));
    frame("dark10.fits", 2, {{"EXPOSURE", 10.0, ""}});
    CHECK(run("reduce -o same --bias bias.fits --dark dark10.fits raw1.fits").status == 0);  // equal exposures
    CHECK(read("same/raw1.fits").data()(0, 0) == doctest::Approx(88));

    // Masters must have the trimmed shape, so this one has none.
    const auto e = run("reduce -o electrons --gain 2 --readnoise 5 --trim '[1:3,1:2]' raw1.fits");
    CHECK_MESSAGE(e.status == 0, e.err);
    const auto el = read("electrons/raw1.fits");
    CHECK(el.unit() == ccdx::unit("electron"));
    CHECK(el.rows() == 2);
    CHECK(el.cols() == 3);
    CHECK(el.data()(1, 2) == doctest::Approx(100 * 2));
    CHECK(el.has_uncertainty());

    check_fails(run("reduce -o x --readnoise 5 raw1.fits"), "--gain");
    check_fails(run("reduce -o . raw1.fits"), "its own input");
}

// A camera's multi-extension file: an empty primary, then one 4 x 5 image per value, EXTNAME
// SCI with EXTVER 1, 2, ... (as cfitsio writes it, not through ccdx).
void multi_extension(const std::string& name, const std::vector<float>& values)
{
    const std::string path = "!" + (workdir() / name).string();
    fitsfile* f = nullptr;
    int status = 0;
    fits_create_file(&f, path.c_str(), &status);
    fits_create_img(f, FLOAT_IMG, 0, nullptr, &status);
    fits_write_key_dbl(f, "EXPTIME", 10.0, -1, nullptr, &status);
    for (std::size_t k = 0; k < values.size(); ++k) {
        long axes[2] = {5, 4};
        fits_create_img(f, FLOAT_IMG, 2, axes, &status);
        int version = static_cast<int>(k + 1);
        fits_write_key_str(f, "EXTNAME", "SCI", nullptr, &status);
        fits_write_key(f, TINT, "EXTVER", &version, nullptr, &status);
        fits_write_key_str(f, "BUNIT", "adu", nullptr, &status);
        std::vector<float> pixels(20, values[k]);
        fits_write_img(f, TFLOAT, 1, 20, pixels.data(), &status);
    }
    fits_close_file(f, &status);
    REQUIRE(status == 0);
}

TEST_CASE("extensions: FILE[N], FILE[NAME], FILE[NAME,VER] and --hdu")
{
    multi_extension("mef1.fits", {100, 200, 300});
    multi_extension("mef2.fits", {110, 210, 310});
    multi_extension("mefbias.fits", {10, 20, 30});

    // The default is the first image extension; a number, a name and a version choose others.
    REQUIRE(run("calc 'a - b' a=mef1.fits[3] b='mefbias.fits[SCI,2]' -o ext.fits").status == 0);
    CHECK(read("ext.fits").data()(0, 0) == doctest::Approx(300 - 20));
    REQUIRE(run("calc 'a' a=mef1.fits[SCI] -o first.fits").status == 0);
    CHECK(read("first.fits").data()(0, 0) == doctest::Approx(100));

    REQUIRE(run("combine -o ext_median.fits --method average --hdu SCI,2 mef1.fits mef2.fits").status == 0);
    CHECK(read("ext_median.fits").data()(3, 4) == doctest::Approx(205));
    REQUIRE(run("combine -o ext_named.fits 'mef1.fits[2]' 'mef2.fits[2]'").status == 0);
    CHECK(read("ext_named.fits").data()(0, 0) == doctest::Approx(205));

    const auto r = run("reduce -o ext_reduced --hdu 3 --bias 'mefbias.fits[3]' mef1.fits mef2.fits");
    CHECK_MESSAGE(r.status == 0, r.err);
    CHECK(read("ext_reduced/mef2.fits").data()(1, 1) == doctest::Approx(310 - 30));

    check_fails(run("combine -o x.fits --hdu 2 'mef1.fits[3]' mef2.fits"), "another HDU than --hdu 2");
    check_fails(run("combine -o x.fits 'mef1.fits[2]' 'mef2.fits[3]'"), "one HDU");
    check_fails(run("calc 'a' a='mef1.fits[SCI,4]' -o x.fits"), "EXTVER 4");
    check_fails(run("calc 'a' a='mef1.fits[7]' -o x.fits"), "no HDU 7");
    check_fails(run("combine -o x.fits --hdu 'SCI,0' mef1.fits"), "EXTNAME,EXTVER");
    CHECK_FALSE(fs::exists(workdir() / "x.fits"));
}

TEST_CASE("reduce: header values (@KEY), overscan method and model, a bad-pixel mask, a flat's floor, compressed outputs")
{
    // Rows r = 0..3: science columns 1-2 hold 100 + 10 r; overscan columns 3-5 hold 20 + r,
    // 20 + r and 50 + r, so each row's median level is 20 + r and its mean 30 + r.
    ccdx::image<float> raw(4, 5, ccdx::unit("adu"));
    for (std::size_t r = 0; r < 4; ++r)
        for (std::size_t c = 0; c < 5; ++c) raw.data()(r, c) = float(c < 2 ? 100 + 10 * r : c < 4 ? 20 + r : 50 + r);
    raw.header().set("BIASSEC", std::string("[3:5,1:4]"));
    raw.header().set("TRIMSEC", std::string("[1:2,1:4]"));
    raw.header().set("GAIN", 2.0, "[electron/adu] gain");
    raw.header().set("RDNOISE", 3.0, "[electron] read noise");
    ccdx::write_fits(raw, workdir() / "hk.fits");

    const auto r = run("reduce -o hk --oscan @BIASSEC --trim @TRIMSEC --gain @GAIN --readnoise @RDNOISE hk.fits");
    CHECK_MESSAGE(r.status == 0, r.err);
    const auto hk = read("hk/hk.fits");
    CHECK(hk.shape() == ccdx::shape2{4, 2});
    CHECK(hk.unit() == ccdx::unit("electron"));
    CHECK(hk.data()(0, 0) == doctest::Approx((100 - 20) * 2));
    CHECK(hk.data()(3, 1) == doctest::Approx((130 - 23) * 2));
    REQUIRE(hk.has_uncertainty());
    CHECK(hk.uncertainty()(0, 0) == doctest::Approx(13));  // sqrt(160 electrons + 3²)

    REQUIRE(run("reduce -o mean --oscan @BIASSEC --oscan-method mean --trim @TRIMSEC hk.fits").status == 0);
    CHECK(read("mean/hk.fits").data()(3, 0) == doctest::Approx(130 - 33));
    // A constant (degree 0) through the median levels 20..23.
    REQUIRE(run("reduce -o model --oscan '[3:5,1:4]' --oscan-model poly:0 --trim @TRIMSEC hk.fits").status == 0);
    CHECK(read("model/hk.fits").data()(0, 0) == doctest::Approx(100 - 21.5));
    CHECK(read("model/hk.fits").data()(3, 0) == doctest::Approx(130 - 21.5));

    check_fails(run("reduce -o nokey --gain @NOPE hk.fits"), "NOPE");
    check_fails(run("reduce -o nokey --gain two hk.fits"), "--gain wants a number or @KEYWORD");
    check_fails(run("reduce -o nokey --oscan @BIASSEC --oscan-model cubic hk.fits"), "poly:N");
    CHECK_FALSE(fs::exists(workdir() / "nokey" / "hk.fits"));

    // A bad-pixel mask of the trimmed shape marks its pixels in the output's mask.
    ccdx::image<float> bad(4, 2, ccdx::unit());
    bad.data().fill(0);
    bad.data()(1, 1) = 1;
    ccdx::write_fits(bad, workdir() / "bad.fits");
    REQUIRE(run("reduce -o masked --trim @TRIMSEC --mask bad.fits hk.fits").status == 0);
    const auto masked = read("masked/hk.fits");
    REQUIRE(masked.has_mask());
    CHECK(masked.mask()(1, 1) != 0);
    CHECK(masked.mask()(0, 0) == 0);
    check_fails(run("reduce -o masked2 --mask bad.fits hk.fits"), "shape");

    // A zero in the flat gives inf there, as in ccdproc; --min-value raises it first (mean of the
    // raised flat: 1.95).
    ccdx::image<float> flat(4, 5, ccdx::unit("adu"));
    flat.data().fill(2);
    flat.data()(2, 3) = 0;
    ccdx::write_fits(flat, workdir() / "zeroflat.fits");
    frame("plain.fits", 100);
    REQUIRE(run("reduce -o unfloored --flat zeroflat.fits plain.fits").status == 0);
    CHECK(std::isinf(read("unfloored/plain.fits").data()(2, 3)));
    REQUIRE(run("reduce -o floor --flat zeroflat.fits --min-value 1 plain.fits").status == 0);
    CHECK(read("floor/plain.fits").data()(2, 3) == doctest::Approx(100 * 1.95));
    CHECK(read("floor/plain.fits").data()(0, 0) == doctest::Approx(100 * 1.95 / 2));

    // Tile-compressed outputs end in .fz, after the suffix; they hold the same pixels.
    REQUIRE(run("reduce -o packed --compress --suffix _red --flat zeroflat.fits --min-value 1 plain.fits").status == 0);
    const auto packed = read("packed/plain_red.fits.fz");
    CHECK(packed.data()(2, 3) == read("floor/plain.fits").data()(2, 3));
    int status = 0, compressed = 0;
    fitsfile* f = nullptr;
    fits_open_file(&f, (workdir() / "packed/plain_red.fits.fz").c_str(), READONLY, &status);
    fits_movabs_hdu(f, 2, nullptr, &status);
    compressed = fits_is_compressed_image(f, &status);
    fits_close_file(f, &status);
    CHECK(status == 0);
    CHECK(compressed == 1);
}

// A 40 x 40 sky of 100 adu with a gentle pattern (no two neighbours equal), for detection tests.
ccdx::image<float> sky()
{
    ccdx::image<float> img(40, 40, ccdx::unit("adu"));
    for (std::size_t r = 0; r < 40; ++r)
        for (std::size_t c = 0; c < 40; ++c) img.data()(r, c) = float(100 + (r * 7 + c * 13) % 5);
    return img;
}

TEST_CASE("cosmic: hits found, cleaned and marked by L.A.Cosmic and by the local median")
{
    ccdx::image<float> hit = sky();
    hit.data()(20, 17) = 5000;
    hit.data()(8, 30) = 3000;
    hit.header().set("GAIN", 1.0);
    ccdx::write_fits(hit, workdir() / "hit.fits");
    const auto is_hit = [](const ccdx::image<double>& img, std::size_t r, std::size_t c) {
        return img.has_mask() && (img.mask()(r, c) & ccdx::mask_bits::cosmic_ray) != 0;
    };

    const auto la = run("cosmic -o cr hit.fits --gain @GAIN --readnoise 5");
    CHECK_MESSAGE(la.status == 0, la.err);
    const auto cleaned = read("cr/hit.fits");
    CHECK(is_hit(cleaned, 20, 17));
    CHECK(is_hit(cleaned, 8, 30));
    CHECK_FALSE(is_hit(cleaned, 30, 30));
    CHECK(cleaned.data()(20, 17) == doctest::Approx(102).epsilon(0.05));  // the sky around it
    CHECK(cleaned.data()(30, 30) == hit.data()(30, 30));                  // elsewhere untouched

    REQUIRE(run("cosmic -o crm --method median --thresh 5 --mbox 5 --rbox 5 --error 2 --suffix _cr hit.fits").status == 0);
    const auto median = read("crm/hit_cr.fits");
    CHECK(is_hit(median, 20, 17));
    CHECK_FALSE(is_hit(median, 21, 17));
    CHECK(median.data()(20, 17) >= 100);
    CHECK(median.data()(20, 17) <= 104);

    check_fails(run("cosmic -o cr hit.fits"), "--overwrite");
    check_fails(run("cosmic -o cr2 hit.fits --gain @NOPE"), "NOPE");
    check_fails(run("cosmic -o cr2 hit.fits --method lacosmic --cleantype best"), "cleantype");
}

TEST_CASE("mask: bad columns from a ratio of two flats, taken by reduce --mask")
{
    // Two flats with the same pixel-to-pixel pattern: their ratio is 1 within 0.6 % but for
    // column 11, which responds at half the level in the second.
    ccdx::image<float> a = sky(), b = sky();
    for (std::size_t i = 0; i < b.size(); ++i) b.data().data()[i] *= 1.0f + 0.001f * float((i * 2654435761u) % 7);
    for (std::size_t r = 0; r < 40; ++r) b.data()(r, 11) *= 0.5f;
    ccdx::write_fits(a, workdir() / "flat_a.fits");
    ccdx::write_fits(b, workdir() / "flat_b.fits");
    const auto r = run("mask -o bad_columns.fits flat_a.fits flat_b.fits");
    CHECK_MESSAGE(r.status == 0, r.err);
    const auto bad = read("bad_columns.fits");
    std::size_t in_column = 0, elsewhere = 0;
    for (std::size_t row = 0; row < 40; ++row)
        for (std::size_t c = 0; c < 40; ++c) (c == 11 ? in_column : elsewhere) += bad.data()(row, c) != 0;
    CHECK(in_column == 40);
    CHECK(elsewhere == 0);

    REQUIRE(run("reduce -o with_mask --mask bad_columns.fits flat_a.fits").status == 0);
    const auto reduced = read("with_mask/flat_a.fits");
    REQUIRE(reduced.has_mask());
    CHECK(reduced.mask()(5, 11) != 0);
    CHECK(reduced.mask()(5, 12) == 0);
    check_fails(run("mask -o bad_columns.fits flat_a.fits flat_b.fits"), "--overwrite");
    check_fails(run("mask -o x.fits flat_a.fits flat_b.fits --ncmed 0"), "ncmed");
}

TEST_CASE("night: masters, calibrated flats and reduced lights from one folder, with a manifest")
{
    // Bias 100 adu; dark current 2 adu/s; flats of 2 s at two levels; lights of 60 s with a sky
    // of 500 adu seen through the flat's response. The nearest dark to 60 s is the 30 s one,
    // scaled by 2; so every reduced light in r is 500 everywhere.
    fs::create_directories(workdir() / "raw");
    const auto response = [](std::size_t c) { return 0.8 + 0.1 * double(c); };  // mean and median 1
    const auto typed = [](const char* type, double exposure, const char* filter = "") {
        std::vector<ccdx::card> cards{{"IMAGETYP", std::string(type), ""}, {"EXPTIME", exposure, ""}};
        if (*filter) cards.push_back({"FILTER", std::string(filter), ""});
        return cards;
    };
    for (int k = 0; k < 3; ++k) frame("raw/bias" + std::to_string(k) + ".fits", 100, typed("Bias Frame", 0));
    for (int k = 0; k < 2; ++k) {
        frame("raw/dark30_" + std::to_string(k) + ".fits", 160, typed("DARK", 30));
        frame("raw/dark120_" + std::to_string(k) + ".fits", 340, typed("DARK", 120));
    }
    // 2 s flats: bias + 4 adu of dark current + 1000 or 2000 adu of light.
    for (int k = 1; k <= 2; ++k) {
        ccdx::image<float> flat(4, 5, ccdx::unit("adu"));
        for (std::size_t r = 0; r < 4; ++r)
            for (std::size_t c = 0; c < 5; ++c) flat.data()(r, c) = float(104 + 1000 * k * response(c));
        for (auto& card : typed("FLAT", 2, "r")) flat.header().set(card.keyword, card.value);
        ccdx::write_fits(flat, workdir() / ("raw/flat_r" + std::to_string(k) + ".fits"));
    }
    for (const char* name : {"raw/light_r1.fits", "raw/light_r2.fits"}) {
        ccdx::image<float> light(4, 5, ccdx::unit("adu"));
        for (std::size_t r = 0; r < 4; ++r)
            for (std::size_t c = 0; c < 5; ++c) light.data()(r, c) = float(220 + 500 * response(c));
        for (auto& card : typed("Light Frame", 60, "r")) light.header().set(card.keyword, card.value);
        ccdx::write_fits(light, workdir() / name);
    }
    frame("raw/light_v.fits", 720, typed("object", 60, "V"));
    frame("raw/focus.fits", 5, typed("FOCUS", 1));

    const auto refused = run("night raw -o out --dry-run");
    check_fails(refused, "no flat for filter 'V'");
    CHECK(refused.out.find("lights in filter 'V' have no flat") != std::string::npos);
    const auto dry = run("night raw -o out --dry-run --keep-going");
    CHECK_MESSAGE(dry.status == 0, dry.err);
    CHECK(dry.out.find("bias: 3 frames") != std::string::npos);
    CHECK(dry.out.find("dark 30 s: 2 frames") != std::string::npos);
    CHECK(dry.out.find("flat 'r': 2 frames") != std::string::npos);
    CHECK(dry.out.find("lights: 3 frames") != std::string::npos);
    CHECK(dry.out.find("skipped focus.fits: IMAGETYP 'FOCUS'") != std::string::npos);
    CHECK_FALSE(fs::exists(workdir() / "out"));

    check_fails(run("night raw -o out"), "no flat for filter 'V'");
    CHECK_FALSE(fs::exists(workdir() / "out" / "masters" / "bias.fits"));

    const auto r = run("night raw -o out --keep-going");
    CHECK_MESSAGE(r.status == 0, r.err);
    CHECK(read("out/masters/bias.fits").data()(2, 2) == doctest::Approx(100));
    CHECK(read("out/masters/dark_30s.fits").data()(0, 0) == doctest::Approx(60));
    CHECK(read("out/masters/dark_120s.fits").data()(3, 4) == doctest::Approx(240));
    CHECK(read("out/flats/flat_r2.fits").data()(0, 0) == doctest::Approx(2000 * 0.8));
    const auto flat = read("out/masters/flat_r.fits");
    CHECK(flat.data()(0, 0) == doctest::Approx(0.8));
    CHECK(flat.data()(1, 4) == doctest::Approx(1.2));
    for (const char* name : {"out/reduced/light_r1.fits", "out/reduced/light_r2.fits"}) {
        const auto light = read(name);
        for (std::size_t c = 0; c < 5; ++c) CHECK(light.data()(1, c) == doctest::Approx(500));
    }
    CHECK(read("out/reduced/light_v.fits").data()(0, 0) == doctest::Approx(720 - 100 - 120));  // no flat in V
    CHECK(fs::exists(workdir() / "out" / "previews" / "light_r1.png"));
    CHECK(fs::exists(workdir() / "out" / "previews" / "bias.png"));

    const std::string csv = slurp(workdir() / "out" / "night.csv");
    CHECK(csv.rfind("output,kind,inputs,masters,formula\n", 0) == 0);
    CHECK(std::count(csv.begin(), csv.end(), '\n') == 1 + 1 + 2 + 2 + 1 + 3);  // bias, 2 darks, 2 flats, flat, 3 lights
    CHECK(csv.find("master dark,dark30_0.fits;dark30_1.fits") != std::string::npos);
    const std::string json = slurp(workdir() / "out" / "night.json");
    CHECK(json.find("\"kind\": \"reduced light\", \"inputs\": \"light_r1.fits\"") != std::string::npos);
    CHECK(json.find("{\"file\": \"focus.fits\"") != std::string::npos);

    CHECK(csv.find("(light_r1 - bias - dark_30s * 2) / (flat_r") != std::string::npos);  // the masters by name

    check_fails(run("night raw -o out --keep-going"), "--overwrite");
    REQUIRE(run("night raw -o out --keep-going --overwrite --no-previews --cosmic median").status == 0);
    CHECK(slurp(workdir() / "out" / "night.csv").find("; cosmic rays by median") != std::string::npos);
    CHECK(read("out/reduced/light_r2.fits").has_mask());

    fs::create_directories(workdir() / "nobias");
    fs::copy_file(workdir() / "raw" / "light_r1.fits", workdir() / "nobias" / "light.fits");
    check_fails(run("night nobias -o out2"), "no bias frames");
    check_fails(run("night empty_night -o out2"), "empty_night");
}

TEST_CASE("calc: a formula over named files, syntax errors by column")
{
    frame("raw.fits", 110);
    frame("bias.fits", 10);
    frame("flat.fits", 4);
    const auto r = run("calc '(raw - bias) / (flat / mean(flat))' raw=raw.fits bias=bias.fits flat=flat.fits -o calc.fits");
    CHECK_MESSAGE(r.status == 0, r.err);
    const auto out = read("calc.fits");
    CHECK(out.data()(2, 3) == doctest::Approx(100));
    CHECK(out.unit() == ccdx::unit("adu"));
    const auto history = out.header().history();
    CHECK(std::find(history.begin(), history.end(), "ccdx calc: (raw - bias) / (flat / mean(flat))") != history.end());

    CHECK(run("calc 'raw * 2' raw=raw.fits -o double.fits --double").status == 0);
    CHECK(read("double.fits").data()(0, 0) == doctest::Approx(220));

    // The C++ rules: a bare number takes the unit it meets; conditions and mask edits.
    REQUIRE(run("calc 'mark(replace(raw - 100, raw > 105, 0), bias < 20, 4)' raw=raw.fits bias=bias.fits -o edited.fits")
                .status == 0);
    const auto edited = ccdx::read_fits<double>(workdir() / "edited.fits");
    CHECK(edited.unit() == ccdx::unit("adu"));
    CHECK(edited.data()(1, 1) == 0);
    REQUIRE(edited.has_mask());
    CHECK(int(edited.mask()(1, 1)) == 4);
    check_fails(run("calc 'raw - 1[electron]' raw=raw.fits -o x.fits"), "unit mismatch");

    check_fails(run("calc '(raw - bias' raw=raw.fits bias=bias.fits -o x.fits"), "column 12");
    check_fails(run("calc 'raw - bias' raw=raw.fits -o x.fits"), "bias=FILE");
    check_fails(run("calc 'raw' raw=raw.fits flat=flat.fits -o x.fits"), "'flat' is not used");
    check_fails(run("calc 'raw' raw -o x.fits"), "NAME=FILE");
    check_fails(run("calc 'raw' raw=raw.fits -o calc.fits"), "--overwrite");
    CHECK_FALSE(fs::exists(workdir() / "x.fits"));
}

TEST_CASE("writes: a file-size limit fails the command and keeps the old output; an output may replace an input")
{
    frame("raw.fits", 110);
    REQUIRE(run("calc 'raw' raw=raw.fits -o kept.fits").status == 0);
    const std::string before = slurp(workdir() / "kept.fits");
    // 4 blocks (of 512 bytes in POSIX shells, 1024 in bash): less than the 4 x 5 frame's 5760 bytes.
    const auto cut = run("calc 'raw' raw=raw.fits -o kept.fits --overwrite", "ulimit -f 4;");
    check_fails(cut, "'kept.fits'");
    CHECK_MESSAGE(cut.err.find("unchanged") != std::string::npos, cut.err);
    CHECK(slurp(workdir() / "kept.fits") == before);
    for (const auto& entry : fs::directory_iterator(workdir()))
        CHECK_MESSAGE(entry.path().extension() != ".tmp", entry.path());

    CHECK(run("calc 'raw * 2' raw=raw.fits -o raw.fits --overwrite").status == 0);
    CHECK(read("raw.fits").data()(3, 4) == doctest::Approx(220));
}

TEST_CASE("preview: a PNG of a FITS image")
{
    frame("ramp.fits", 5);
    const auto r = run("preview ramp.fits -o ramp.png --stretch linear --limits percentile --percentiles 0,100");
    CHECK_MESSAGE(r.status == 0, r.err);
    const std::string png = slurp(workdir() / "ramp.png");
    REQUIRE(png.size() > 33);
    CHECK(png.substr(1, 3) == "PNG");
    CHECK(png.substr(12, 4) == "IHDR");
    CHECK(png.substr(16, 8) == std::string("\0\0\0\5\0\0\0\4", 8));  // 5 wide, 4 high
    check_fails(run("preview ramp.fits -o ramp.png"), "--overwrite");
    CHECK(run("preview ramp.fits -o ramp.png --overwrite").status == 0);
    check_fails(run("preview ramp.fits -o x.png --stretch cubic"), "cubic");
}

#else

TEST_CASE("the ccdx command line is not built (CLI11 missing), so it is not tested")
{
    MESSAGE("ccdx command line not built");
}

#endif
