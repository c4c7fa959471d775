#include "molearn/core/allocator.hpp"

#include <cstdlib>  // defines __GLIBC__ on glibc systems

#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace molearn {

bool keep_freed_memory_for_reuse() {
#if defined(__GLIBC__)
  // No mmap()ed chunks: large blocks come from the heaps and are reused.
  const bool heap_only = mallopt(M_MMAP_MAX, 0) == 1;
  // Give the top of a heap back only when more than 1 GiB of it is free.
  const bool no_trim = mallopt(M_TRIM_THRESHOLD, 1 << 30) == 1;
  return heap_only && no_trim;
#else
  return false;
#endif
}

}  // namespace molearn
