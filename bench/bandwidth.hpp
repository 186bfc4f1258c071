#pragma once
// The machine's memory bandwidth, measured once per process with a STREAM triad over arrays
// far larger than any cache, with every thread OpenMP offers. Benchmarks report it beside
// their own bytes per second so that every figure reads as a fraction of what the machine can do.

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <vector>

#include <benchmark/benchmark.h>
#include <xsimd/xsimd.hpp>

#ifdef CCDX_USE_OPENMP
#include <omp.h>
#endif

namespace ccdx::bench {

// a = b + s c over n floats, split across `threads` (0: all); bytes moved = 12 n.
inline void triad(float* a, const float* b, const float* c, float s, std::size_t n, int threads)
{
    using B = xsimd::batch<float>;
    const auto blocks = static_cast<std::ptrdiff_t>(n / B::size);
#ifdef CCDX_USE_OPENMP
    const int t = threads > 0 ? threads : omp_get_max_threads();
#pragma omp parallel for num_threads(t) schedule(static)
#else
    (void)threads;
#endif
    for (std::ptrdiff_t i = 0; i < blocks; ++i) {
        const std::size_t k = static_cast<std::size_t>(i) * B::size;
        xsimd::fma(B(s), B::load_unaligned(c + k), B::load_unaligned(b + k)).store_unaligned(a + k);
    }
    for (std::size_t k = static_cast<std::size_t>(blocks) * B::size; k < n; ++k) a[k] = b[k] + s * c[k];
}

// Best of several triads over 3 x 128 MiB, all threads: bytes per second.
inline double machine_bandwidth()
{
    static const double measured = [] {
        const std::size_t n = std::size_t(1) << 25;
        std::vector<float> a(n, 0.f), b(n, 1.f), c(n, 2.f);
        triad(a.data(), b.data(), c.data(), 3.f, n, 0);  // first touch
        double best = 0;
        for (int rep = 0; rep < 5; ++rep) {
            const auto t0 = std::chrono::steady_clock::now();
            triad(a.data(), b.data(), c.data(), 3.f, n, 0);
            const std::chrono::duration<double> dt = std::chrono::steady_clock::now() - t0;
            best = std::max(best, 12.0 * double(n) / dt.count());
        }
        benchmark::DoNotOptimize(a.data());
        return best;
    }();
    return measured;
}

// Adds the bytes this benchmark moved and the machine's bandwidth beside them.
inline void report_bytes(benchmark::State& state, double bytes_per_iteration)
{
    state.SetBytesProcessed(static_cast<std::int64_t>(bytes_per_iteration * double(state.iterations())));
    state.counters["machine_GBps"] = machine_bandwidth() / 1e9;
}

}  // namespace ccdx::bench
