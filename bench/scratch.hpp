#pragma once
// Where a benchmark writes its files: CCDX_BENCH_DIR/<name>, kept for the reference scripts
// (bench/compare.py sets it), or else a fresh folder beside the system's temporary files that
// goes when the process ends.

#include <cstdlib>
#include <filesystem>
#include <random>
#include <string>

namespace ccdx::bench {

inline bool keep_files()
{
    const char* dir = std::getenv("CCDX_BENCH_DIR");
    return dir && *dir;
}

inline std::filesystem::path scratch_folder(const std::string& name)
{
    namespace fs = std::filesystem;
    const fs::path folder = keep_files() ? fs::path(std::getenv("CCDX_BENCH_DIR")) / name
                                         : fs::temp_directory_path() /
                                               ("ccdx-bench-" + name + "-" + std::to_string(std::random_device{}()));
    fs::create_directories(folder);
    return folder;
}

}  // namespace ccdx::bench
