#pragma once
// The process's resident high-water mark, reset before a benchmark so that each reports its own.

#include <fstream>
#include <string>

#include <benchmark/benchmark.h>

namespace ccdx::bench {

inline void reset_peak_memory() { std::ofstream("/proc/self/clear_refs") << "5"; }

// In MB (10^6 bytes); 0 where the kernel does not say.
inline double peak_memory_mb()
{
    std::ifstream status("/proc/self/status");
    std::string key;
    while (status >> key) {
        if (key == "VmHWM:") {
            double kb = 0;
            status >> kb;
            return kb * 1024 / 1e6;
        }
        std::getline(status, key);
    }
    return 0;
}

inline void report_peak_memory(benchmark::State& state) { state.counters["peak_MB"] = peak_memory_mb(); }

}  // namespace ccdx::bench
