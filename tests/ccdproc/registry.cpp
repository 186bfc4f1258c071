// The registry against the test cases doctest holds, and the tally printed after the run.
#include <doctest/doctest.h>

#include <cstdio>
#include <map>
#include <set>
#include <string>

#include "registry.hpp"

namespace doctest::detail {
// Defined in doctest's implementation (linked in from the test main), not declared in its interface.
std::set<TestCase>& getRegisteredTests();
}  // namespace doctest::detail

namespace {

using ccdproc_registry::entries;
using ccdproc_registry::status;

// Names of the test cases registered from this folder, and whether each is skipped.
std::map<std::string, bool> folder_tests()
{
    std::map<std::string, bool> out;
    for (const auto& tc : doctest::detail::getRegisteredTests()) {
        const std::string file = tc.m_file.c_str();
        if (file.find("ccdproc/") == std::string::npos) continue;
        const std::string name = tc.m_name;
        if (name.rfind("test_", 0) != 0) continue;  // the folder's own checks (fixtures, registry)
        out[name] = tc.m_skip;
    }
    return out;
}

// Test cases of entries marked ported that ran and failed, filled in by the listener.
std::set<std::string>& failed_names()
{
    static std::set<std::string> names;
    return names;
}

std::set<std::string>& run_names()
{
    static std::set<std::string> names;
    return names;
}

struct tally_listener : doctest::IReporter {
    explicit tally_listener(const doctest::ContextOptions&) {}

    void report_query(const doctest::QueryData&) override {}
    void test_run_start() override {}
    void test_case_start(const doctest::TestCaseData& tc) override { current_ = tc.m_name; }
    void test_case_reenter(const doctest::TestCaseData&) override {}
    void test_case_end(const doctest::CurrentTestCaseStats& st) override
    {
        run_names().insert(current_);
        if (!st.testCaseSuccess) failed_names().insert(current_);
    }
    void test_case_exception(const doctest::TestCaseException&) override {}
    void subcase_start(const doctest::SubcaseSignature&) override {}
    void subcase_end() override {}
    void log_assert(const doctest::AssertData&) override {}
    void log_message(const doctest::MessageData&) override {}
    void test_case_skipped(const doctest::TestCaseData&) override {}

    void test_run_end(const doctest::TestRunStats&) override
    {
        const auto tests = folder_tests();
        struct counts {
            int passing = 0, differs = 0, not_applicable = 0, failing = 0, unaccounted = 0, not_run = 0;
        };
        std::map<std::string, counts> per_module;
        counts total;
        for (const auto& e : entries()) {
            counts& m = per_module[e.module];
            int counts::*field = &counts::unaccounted;
            if (e.state == status::differs) field = &counts::differs;
            if (e.state == status::not_applicable) field = &counts::not_applicable;
            if (e.state == status::failing) field = &counts::failing;
            if (e.state == status::ported) {
                const auto t = tests.find(e.function);
                const bool exists = t != tests.end() && !t->second;
                // A test left out by a filter (-tc=...) is neither passing nor an error.
                if (exists && !run_names().count(e.function)) field = &counts::not_run;
                else if (exists && !failed_names().count(e.function)) field = &counts::passing;
                else std::printf("ccdproc suite: ERROR %s::%s is registered as ported but has no passing test case\n",
                                 e.module, e.function);
            }
            ++(m.*field);
            ++(total.*field);
        }
        const auto line = [](const std::string& what, const counts& c) {
            std::printf("ccdproc suite%s: %d ported and passing, %d differ on purpose, %d not applicable, "
                        "%d failing (skipped), %d unaccounted%s\n",
                        what.c_str(), c.passing, c.differs, c.not_applicable, c.failing, c.unaccounted,
                        c.not_run ? (", " + std::to_string(c.not_run) + " not run").c_str() : "");
        };
        for (const auto& [module, c] : per_module) line(" " + module, c);
        line("", total);
    }

private:
    std::string current_;
};

}  // namespace

DOCTEST_REGISTER_LISTENER("ccdproc_tally", 1, tally_listener);

TEST_CASE("ccdproc registry: each function once, ported ones run, failing ones skipped, no test unregistered")
{
    const auto tests = folder_tests();
    std::set<std::string> seen;
    for (const auto& e : entries()) {
        INFO(e.module << "::" << e.function);
        CHECK(seen.insert(std::string(e.module) + "::" + e.function).second);
        const auto t = tests.find(e.function);
        if (e.state == status::ported) {
            CHECK(t != tests.end());
            if (t != tests.end()) CHECK_FALSE(t->second);
        } else if (e.state == status::failing) {
            CHECK(t != tests.end());
            if (t != tests.end()) CHECK(t->second);
        } else {
            CHECK(std::string(e.reason).size() > 0);
        }
    }
    for (const auto& [name, skipped] : tests) {
        INFO(name);
        bool found = false;
        for (const auto& e : entries()) found = found || name == e.function;
        CHECK(found);
    }
}
