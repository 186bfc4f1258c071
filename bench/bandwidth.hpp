#pragma once
// The machine's memory bandwidth, measured once per process with a STREAM triad over arrays
// far larger than any cache, with every thread OpenMP offers. Benchmarks report it beside
// their own bytes per second so that every figure reads as a fraction of what the machine can do.
// Beside it, the same-streams floor: what merely streaming a pass's planes costs.

#include <algorithm>
#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <vector>

#include <benchmark/benchmark.h>
#include <xsimd/xsimd.hpp>

#include <ccdx/expr/detail/simd.hpp>

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

// The planes a pass reads and writes: D value planes in, summed into one out; S uncertainty
// planes likewise (none for a values-only pass); M mask planes OR'd into one out.
template <std::size_t D, std::size_t S, std::size_t M>
struct stream_set {
    std::array<const float*, D> values;
    float* values_out;
    std::array<const float*, S> sigmas;
    float* sigmas_out;
    std::array<const std::uint8_t*, M> masks;
    std::uint8_t* mask_out;
};

// Taken by value: the pointers are then locals that no store can alias, and stay in registers
// (read through a shared object, a byte store to the mask would force them all to be reloaded).
template <std::size_t D, std::size_t S, std::size_t M>
void stream_range(const stream_set<D, S, M> s, std::size_t begin, std::size_t end)
{
    using B = xsimd::batch<float>;
    constexpr std::size_t N = B::size;
    for (std::size_t k = begin; k < end; k += N) {
        B v = B::load_unaligned(s.values[0] + k);
        for (std::size_t i = 1; i < D; ++i) v += B::load_unaligned(s.values[i] + k);
        v.store_unaligned(s.values_out + k);
        if constexpr (S > 0) {
            B u = B::load_unaligned(s.sigmas[0] + k);
            for (std::size_t i = 1; i < S; ++i) u += B::load_unaligned(s.sigmas[i] + k);
            u.store_unaligned(s.sigmas_out + k);
        }
        if constexpr (M > 0) {
            auto m = detail::mask_pack<N>::load(s.masks[0] + k);
            for (std::size_t i = 1; i < M; ++i) m = m | detail::mask_pack<N>::load(s.masks[i] + k);
            m.store(s.mask_out + k);
        }
    }
}

// The floor for a pass over n pixels (a multiple of the SIMD width): every plane streamed once
// with trivial arithmetic, one contiguous share per thread (0: all), as the evaluator splits rows.
template <std::size_t D, std::size_t S, std::size_t M>
void same_streams(const stream_set<D, S, M>& s, std::size_t n, int threads)
{
    constexpr std::size_t N = xsimd::batch<float>::size;
#ifdef CCDX_USE_OPENMP
#pragma omp parallel num_threads(threads > 0 ? threads : omp_get_max_threads())
    {
        const auto t = static_cast<std::size_t>(omp_get_thread_num()), all = static_cast<std::size_t>(omp_get_num_threads());
        const std::size_t blocks = n / N;
        stream_range(s, blocks * t / all * N, blocks * (t + 1) / all * N);
    }
#else
    (void)threads;
    stream_range(s, 0, n - n % N);
#endif
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
// Bytes per second in SI units (G = 10^9), as machine_GBps: Google Benchmark's own
// bytes_per_second counts in powers of 1024.
inline void report_bytes(benchmark::State& state, double bytes_per_iteration)
{
    state.counters["bytes_per_second"] = benchmark::Counter(bytes_per_iteration * double(state.iterations()),
                                                            benchmark::Counter::kIsRate, benchmark::Counter::kIs1000);
    state.counters["machine_GBps"] = machine_bandwidth() / 1e9;
}

}  // namespace ccdx::bench
