// The conformance runner: every case of cases.json (folder from env CCDX_GOLDEN_DIR, default the
// repo's tests/golden) runs through the op registered for it in tests/conformance/*.cpp and is
// compared with the expected file as the golden README says. A case whose op nobody registered
// fails, naming the op. One line per case is printed: name, op, max abs and rel error, verdict.

#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <string>
#include <vector>

#include "conformance/registry.hpp"

namespace {

std::filesystem::path golden_dir()
{
    if (const char* env = std::getenv("CCDX_GOLDEN_DIR"); env && *env) return env;
    return CCDX_DEFAULT_GOLDEN_DIR;
}

// How far a result is from the expected one, and everything that disagrees.
struct comparison {
    double max_abs = 0;
    double max_rel = 0;
    std::vector<std::string> problems;
};

// |a - e| <= atol + rtol*|e| element by element; NaN matches NaN, inf matches the same inf.
void compare_plane(const xt::xtensor<double, 2>& actual, const xt::xtensor<double, 2>& expected, double rtol,
                   double atol, const char* what, comparison& out)
{
    std::size_t bad = 0;
    std::string first;
    const std::size_t cols = expected.shape()[1];
    for (std::size_t i = 0; i < expected.size(); ++i) {
        const double a = actual.data()[i];
        const double e = expected.data()[i];
        bool ok;
        if (std::isfinite(a) && std::isfinite(e)) {
            const double diff = std::abs(a - e);
            out.max_abs = std::max(out.max_abs, diff);
            if (e != 0) out.max_rel = std::max(out.max_rel, diff / std::abs(e));
            ok = diff <= atol + rtol * std::abs(e);
        } else {
            ok = (std::isnan(a) && std::isnan(e)) || a == e;
        }
        if (!ok && bad++ == 0) {
            char buf[160];
            std::snprintf(buf, sizeof buf, "at (row %zu, col %zu): %.9g vs expected %.9g", i / cols, i % cols, a, e);
            first = buf;
        }
    }
    if (bad)
        out.problems.push_back(std::string(what) + ": " + std::to_string(bad) + " of " +
                               std::to_string(expected.size()) + " pixels outside tolerance, first " + first);
}

comparison compare(const ccdx::image<double>& actual, const ccdx::image<double>& expected,
                   const conformance::golden_case& c)
{
    comparison out;
    if (actual.shape() != expected.shape()) {
        out.problems.push_back("shape " + ccdx::to_string(actual.shape()) + " vs expected " +
                               ccdx::to_string(expected.shape()));
        return out;
    }
    compare_plane(actual.data(), expected.data(), c.rtol, c.atol, "data", out);
    // Where the reference drops uncertainty (block operations) ccdx may keep it: only held when expected.
    if (expected.has_uncertainty()) {
        if (!actual.has_uncertainty())
            out.problems.push_back("uncertainty missing (expected has one)");
        else
            compare_plane(actual.uncertainty(), expected.uncertainty(), c.rtol, c.atol, "uncertainty", out);
    }
    // A missing mask means nothing is masked; mask bits compare as masked / not masked.
    std::size_t mask_diff = 0;
    for (std::size_t i = 0; i < expected.size(); ++i) {
        const bool a = actual.has_mask() && actual.mask().data()[i] != 0;
        const bool e = expected.has_mask() && expected.mask().data()[i] != 0;
        mask_diff += a != e;
    }
    if (mask_diff) out.problems.push_back("mask differs at " + std::to_string(mask_diff) + " pixels");
    if (actual.unit() != expected.unit())
        out.problems.push_back("unit '" + actual.unit().to_string() + "' vs expected '" +
                               expected.unit().to_string() + "'");
    for (const std::string& key : c.added_keywords)
        if (!actual.header().contains(key)) out.problems.push_back("header lacks keyword " + key);
    return out;
}

const std::vector<conformance::golden_case>& cases()
{
    static const std::vector<conformance::golden_case> all = conformance::load_cases(golden_dir());
    return all;
}

}  // namespace

TEST_CASE("conformance: every op is registered once")
{
    for (const std::string& op : conformance::duplicates()) FAIL_CHECK("op '" << op << "' is registered twice");
}

TEST_CASE("conformance: golden cases")
{
    REQUIRE_MESSAGE(std::filesystem::exists(golden_dir() / "cases.json"),
                    "no cases.json in " << golden_dir().string() << " (set CCDX_GOLDEN_DIR)");
    REQUIRE_FALSE(cases().empty());
    for (const conformance::golden_case& c : cases()) {
        SUBCASE(c.name.c_str())
        {
            INFO("case " << c.name << " (op " << c.op << ") in " << c.dir.string());
            const auto op = conformance::ops().find(c.op);
            if (op == conformance::ops().end()) {
                std::printf("%-40s %-20s %12s %12s  NOT IMPLEMENTED\n", c.name.c_str(), c.op.c_str(), "-", "-");
                FAIL_CHECK("op '" << c.op << "' is not implemented (no registrar in tests/conformance/)");
                continue;
            }
            comparison result;
            try {
                const ccdx::image<double> actual = op->second(c);
                result = compare(actual, c.expected_image(), c);
            } catch (const std::exception& e) {
                result.problems.push_back(std::string("threw: ") + e.what());
            }
            std::printf("%-40s %-20s %12.3g %12.3g  %s\n", c.name.c_str(), c.op.c_str(), result.max_abs,
                        result.max_rel, result.problems.empty() ? "pass" : "FAIL");
            for (const std::string& p : result.problems) FAIL_CHECK(c.name << ": " << p);
        }
    }
}
