#pragma once
// How many threads a pass uses: the caller's number, or OpenMP's default for 0.

#ifdef CCDX_USE_OPENMP
#include <omp.h>
#endif

namespace ccdx::detail {

inline int thread_count(int requested) noexcept
{
#ifdef CCDX_USE_OPENMP
    return requested > 0 ? requested : omp_get_max_threads();
#else
    (void)requested;
    return 1;
#endif
}

}  // namespace ccdx::detail
