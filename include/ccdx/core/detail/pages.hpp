#pragma once
// Memory advice for large planes that are written once, front to back.

#include <cstddef>
#include <cstdint>

#if defined(__linux__)
#include <sys/mman.h>
#endif

namespace ccdx::detail {

// A freshly allocated plane is written once, front to back. Linux maps it 4 KiB at a time on
// first touch, which on a virtual machine costs more than decoding the pixels; asking for
// transparent huge pages (as numpy does for large arrays) makes that 512 times fewer faults.
inline void prefer_huge_pages(void* p, std::size_t bytes)
{
#if defined(__linux__) && defined(MADV_HUGEPAGE)
    constexpr std::uintptr_t huge = std::uintptr_t{1} << 21;
    if (bytes < 2 * huge) return;
    const auto begin = reinterpret_cast<std::uintptr_t>(p);
    const std::uintptr_t lo = (begin + huge - 1) & ~(huge - 1);
    const std::uintptr_t hi = (begin + bytes) & ~(huge - 1);
    if (hi > lo) ::madvise(reinterpret_cast<void*>(lo), hi - lo, MADV_HUGEPAGE);  // advice only: failure is harmless
#else
    (void)p, (void)bytes;
#endif
}

}  // namespace ccdx::detail
