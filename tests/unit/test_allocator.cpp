// keep_freed_memory_for_reuse: after it, large blocks come from the heap
// (no mmap()ed chunks), which is what saves training its page faults.
#include <gtest/gtest.h>

#include <cstdlib>  // defines __GLIBC__ on glibc systems
#include <cstring>

#include "molearn/core/allocator.hpp"

#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace {

#if defined(__GLIBC__)
TEST(Allocator, LargeBlocksComeFromTheHeapAndAreReused) {
#if defined(__SANITIZE_ADDRESS__)
  GTEST_SKIP() << "AddressSanitizer replaces glibc's malloc (scripts/sanitize.sh)";
#endif
  constexpr std::size_t kBlock = 96u << 20;  // above glibc's largest mmap threshold (32 MiB)
  ASSERT_TRUE(molearn::keep_freed_memory_for_reuse());
  const std::size_t mapped_before = mallinfo2().hblkhd;
  void* first = std::malloc(kBlock);
  ASSERT_NE(first, nullptr);
  std::memset(first, 1, kBlock);
  EXPECT_EQ(mallinfo2().hblkhd, mapped_before) << "a 96 MiB block was mmap()ed";
  const std::size_t heap_with_block = mallinfo2().arena;
  std::free(first);
  // Not trimmed: the heap keeps the block's memory for the next request.
  EXPECT_GE(mallinfo2().arena, heap_with_block);
  void* second = std::malloc(kBlock);
  ASSERT_NE(second, nullptr);
  EXPECT_EQ(mallinfo2().arena, heap_with_block) << "the heap grew instead of reusing the freed block";
  std::free(second);
}
#endif

}  // namespace
