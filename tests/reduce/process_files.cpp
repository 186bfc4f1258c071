#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include <libdeflate.h>

#include <ccdx/reduce/process_files.hpp>

#include "scratch.hpp"

namespace fs = std::filesystem;
using ccdx::image;
using ccdx::unit;

namespace {

// Raw frame k of a small night: a slope plus k, exposure 10 (k + 1) s, no BUNIT (as cameras write).
image<float> raw_frame(std::size_t k, std::size_t rows = 24, std::size_t cols = 31)
{
    image<float> raw(rows, cols, unit("adu"));
    for (std::size_t r = 0; r < rows; ++r)
        for (std::size_t c = 0; c < cols; ++c) raw.data()(r, c) = float(1000 + 3 * r + c + 17 * k);
    raw.header().set("EXPTIME", 10.0 * double(k + 1));
    return raw;
}

image<float> master(float value, const char* name, std::size_t rows = 24, std::size_t cols = 31)
{
    image<float> m(rows, cols, unit("adu"));
    for (std::size_t i = 0; i < m.size(); ++i) m.data().data()[i] = value + float(i % 7) * 0.25f;
    m.header().set("EXPTIME", 30.0);
    m.set_name(name);
    return m;
}

// Writes each frame to folder/raw<k>.fits without BUNIT, returning the paths.
std::vector<fs::path> write_night(const fs::path& folder, std::size_t frames)
{
    std::vector<fs::path> paths;
    for (std::size_t k = 0; k < frames; ++k) {
        paths.push_back(folder / ("raw" + std::to_string(k) + ".fits"));
        image<float> raw = raw_frame(k);
        ccdx::write_fits(raw, paths.back());
        // Cameras write no BUNIT: remove it, so that unit_if_none is what gives the unit.
        std::fstream f(paths.back(), std::ios::in | std::ios::out | std::ios::binary);
        std::string block(2880, ' ');
        f.read(block.data(), 2880);
        for (std::size_t at = 0; at < 2880; at += 80)
            if (block.compare(at, 8, "BUNIT   ") == 0) block.replace(at, 80, std::string("COMMENT") + std::string(73, ' '));
        f.seekp(0);
        f.write(block.data(), 2880);
    }
    return paths;
}

bool same_bits(const xt::xtensor<float, 2>& a, const xt::xtensor<float, 2>& b)
{
    return a.shape() == b.shape() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

struct night {
    fixtures::scratch_folder raw, out;
    std::vector<fs::path> frames;
    image<float> bias = master(100, "bias"), dark = master(30, "dark"), flat = master(2, "flat");
    ccdx::process_options<float> p;
    ccdx::process_files_options o;

    explicit night(std::size_t n) : frames(write_night(raw.path, n))
    {
        p.master_bias = &bias;
        p.dark_frame = &dark;
        p.master_flat = &flat;
        p.dark.exposure_keyword = "EXPTIME";
        p.dark.exposure_unit = unit("s");
        p.dark.scale = true;
        p.gain = ccdx::quantity(1.5, unit("electron / adu"));
        p.readnoise = ccdx::quantity(5, unit("electron"));
        p.error = true;
        p.gain_corrected = false;
        o.output_folder = out.path;
        o.read.unit_if_none = unit("adu");
    }
};

}  // namespace

TEST_CASE("process_files: each output is what ccd_process gives for its frame, in the frames' order")
{
    night n(5);
    std::vector<std::size_t> reported;
    n.o.progress = [&](std::size_t done, std::size_t total, const fs::path& written) {
        CHECK(total == 5);
        CHECK(fs::exists(written));
        reported.push_back(done);
    };
    const std::vector<fs::path> written = ccdx::process_files(n.frames, n.p, n.o);
    REQUIRE(written.size() == 5);
    CHECK(reported == std::vector<std::size_t>{1, 2, 3, 4, 5});
    for (std::size_t k = 0; k < 5; ++k) {
        CAPTURE(k);
        CHECK(written[k] == n.out / ("raw" + std::to_string(k) + ".fits"));
        // The frame reduced alone, in memory: its exposure scales the dark differently each time.
        image<float> raw = raw_frame(k);
        raw.set_name(("raw" + std::to_string(k)).c_str());
        const image<float> expected = ccdx::ccd_process(raw, n.p);
        const image<float> got = ccdx::read_fits<float>(written[k]);
        CHECK(got.unit() == unit("electron"));
        CHECK(same_bits(got.data(), expected.data()));
        REQUIRE(got.has_uncertainty());
        CHECK(same_bits(got.uncertainty(), expected.uncertainty()));
        CHECK(got.header().find("SUBDARK") != nullptr);
    }
    CHECK(n.out.file_count() == 5);  // no temporary left behind
}

TEST_CASE("process_files: a collection's files, frames of two sizes (buffers reused or not)")
{
    night n(3);
    // A fourth frame of another shape, without masters of its shape: reduced with gain only.
    n.p.master_bias = n.p.dark_frame = n.p.master_flat = nullptr;
    n.p.dark.scale = false;
    image<float> wide = raw_frame(3, 9, 50);
    wide.header().set("BUNIT", std::string("adu"));
    ccdx::write_fits(wide, n.raw / "wide.fits");
    const ccdx::image_collection c(n.raw.path);
    const std::vector<fs::path> written = ccdx::process_files(c, n.p, n.o);
    REQUIRE(written.size() == 4);
    for (const fs::path& w : written) {
        CAPTURE(w);
        const image<float> got = ccdx::read_fits<float>(w);
        image<float> raw = ccdx::read_fits<float>(n.raw / w.filename(), n.o.read);
        CHECK(same_bits(got.data(), image<float>(ccdx::ccd_process(raw, n.p)).data()));
    }
}

namespace {

// `from` gzipped as a whole into `to`, as archives serve frames.
void gzip_file(const fs::path& from, const fs::path& to)
{
    std::ifstream in(from, std::ios::binary);
    const std::string plain((std::istreambuf_iterator<char>(in)), {});
    libdeflate_compressor* c = libdeflate_alloc_compressor(6);
    std::string packed(libdeflate_gzip_compress_bound(c, plain.size()), '\0');
    packed.resize(libdeflate_gzip_compress(c, plain.data(), plain.size(), packed.data(), packed.size()));
    libdeflate_free_compressor(c);
    REQUIRE(!packed.empty());
    std::ofstream(to, std::ios::binary).write(packed.data(), static_cast<std::streamsize>(packed.size()));
}

}  // namespace

TEST_CASE("process_files: outputs named after their inputs, a suffix added, compression endings matched")
{
    night n(2);
    gzip_file(n.frames[1], n.raw / "packed.FITS.GZ");
    n.frames[1] = n.raw / "packed.FITS.GZ";
    SUBCASE("uncompressed outputs lose the .gz: ccdx writes plain FITS")
    {
        const auto written = ccdx::process_files(n.frames, n.p, n.o);
        REQUIRE(written.size() == 2);
        CHECK(written[0] == n.out / "raw0.fits");
        CHECK(written[1] == n.out / "packed.FITS");
        CHECK(same_bits(ccdx::read_fits<float>(written[1]).data(),
                        image<float>(ccdx::ccd_process(ccdx::read_fits<float>(n.raw / "raw1.fits", n.o.read), n.p)).data()));
    }
    SUBCASE("a suffix before the FITS ending; tile-compressed outputs end in .fz")
    {
        n.o.suffix = "_red";
        n.o.write.compress = true;
        const auto written = ccdx::process_files(n.frames, n.p, n.o);
        CHECK(written[0] == n.out / "raw0_red.fits.fz");
        CHECK(written[1] == n.out / "packed_red.FITS.fz");
        CHECK(ccdx::read_fits<float>(written[0]).header().contains("SUBBIAS"));
    }
    SUBCASE("a frame and its gzipped copy would share an output: refused before any work")
    {
        n.frames.push_back(n.raw / "raw0.fits.gz");
        gzip_file(n.frames[0], n.frames.back());
        CHECK_THROWS_WITH_AS(ccdx::process_files(n.frames, n.p, n.o), doctest::Contains("raw0.fits.gz"), ccdx::fits_error);
        CHECK(n.out.file_count() == 0);
    }
}

TEST_CASE("process_files: options that follow each frame's header")
{
    night n(4);
    // Each frame's gain from its exposure time, as a header-driven reduction takes GAIN.
    const auto options_for = [&](const image<float>& raw) {
        ccdx::process_options<float> q = n.p;
        q.gain = ccdx::quantity(raw.header().value<double>("EXPTIME") / 10, unit("electron / adu"));
        return q;
    };
    const std::vector<fs::path> written = ccdx::process_files<float>(n.frames, options_for, n.o);
    REQUIRE(written.size() == 4);
    for (std::size_t k = 0; k < 4; ++k) {
        CAPTURE(k);
        image<float> raw = raw_frame(k);
        ccdx::process_options<float> q = n.p;
        q.gain = ccdx::quantity(double(k + 1), unit("electron / adu"));
        const image<float> got = ccdx::read_fits<float>(written[k]);
        CHECK(same_bits(got.data(), image<float>(ccdx::ccd_process(raw, q)).data()));
        // Not what the common options give: the gain did change from frame to frame.
        CHECK_FALSE(same_bits(got.data(), image<float>(ccdx::ccd_process(raw, n.p)).data()));
    }
}

TEST_CASE("process_files: outputs are checked before any frame is read")
{
    night n(3);
    SUBCASE("an output that exists")
    {
        std::ofstream(n.out / "raw2.fits") << "keep me";
        CHECK_THROWS_WITH_AS(ccdx::process_files(n.frames, n.p, n.o), doctest::Contains("raw2.fits' exists"),
                             ccdx::fits_error);
        CHECK(n.out.file_count() == 1);  // nothing else written
        n.o.write.overwrite = true;
        CHECK(ccdx::process_files(n.frames, n.p, n.o).size() == 3);
    }
    SUBCASE("an output that would replace its input")
    {
        n.o.output_folder = n.raw.path;
        n.o.write.overwrite = true;
        CHECK_THROWS_WITH_AS(ccdx::process_files(n.frames, n.p, n.o), doctest::Contains("its own input"),
                             ccdx::fits_error);
    }
    SUBCASE("two frames of one name, from two folders")
    {
        fixtures::scratch_folder other;
        fs::copy_file(n.frames[0], other / "raw0.fits");
        n.frames.push_back(other / "raw0.fits");
        CHECK_THROWS_WITH_AS(ccdx::process_files(n.frames, n.p, n.o), doctest::Contains("two frames would be written to"),
                             ccdx::fits_error);
        CHECK(n.out.file_count() == 0);
    }
    SUBCASE("a missing output folder")
    {
        n.o.output_folder = n.out / "missing";
        CHECK_THROWS_WITH_AS(ccdx::process_files(n.frames, n.p, n.o), doctest::Contains("does not exist"),
                             ccdx::fits_error);
    }
}

TEST_CASE("process_files: a failing frame stops the night with its name; what was written is whole")
{
    night n(6);
    SUBCASE("a truncated raw file")
    {
        fs::resize_file(n.frames[3], 2880 + 1000);
        CHECK_THROWS_WITH_AS(ccdx::process_files(n.frames, n.p, n.o), doctest::Contains("raw3.fits"),
                             ccdx::fits_error);
    }
    SUBCASE("a frame the masters do not fit: the pass's error, its type kept, names the frame")
    {
        image<float> small = raw_frame(3, 10, 10);
        ccdx::write_fits(small, n.frames[3], [] {
            ccdx::write_options w;
            w.overwrite = true;
            return w;
        }());
        CHECK_THROWS_WITH_AS(ccdx::process_files(n.frames, n.p, n.o), doctest::Contains("frame '"),
                             ccdx::shape_error);
    }
    // Frames before the failing one may be done; every file present is complete, none is
    // the failing frame's or a temporary.
    for (const auto& e : fs::directory_iterator(n.out.path)) {
        CAPTURE(e.path());
        CHECK(e.path().filename().string().rfind("raw", 0) == 0);
        CHECK(e.path().filename() != "raw3.fits");
        CHECK(ccdx::read_fits<float>(e.path()).has_uncertainty());
    }
    CHECK(n.out.file_count() <= 3);
}
