// Process-wide memory-allocator policy for tensor-heavy work.
#pragma once

namespace molearn {

// Keeps freed memory in the process instead of returning it to the kernel.
//
// Why: glibc serves blocks above its mmap threshold (at most 32 MB) with
// fresh mmap()s and unmaps them on free, so every training step of a
// FoldingNet on a real protein (activations of 50-100 MB) page-faults its
// buffers in again and the kernel zeroes them: on MurD (2145 atoms, batch
// 16, 2 threads) 8.5 million page faults in 8 steps. Serving everything
// from the heap and never trimming it made training 1.6x and inference 1.3x
// faster in bench/molearn_bench_foldingnet, for a 45% higher peak resident
// memory (1.9 -> 2.8 GB); a whole `molearn train` run on MurD was 1.23x
// faster for +8%. Results are bit-for-bit the same.
//
// Threads' own arenas cannot grow a heap beyond 64 MiB, so their larger
// blocks are still mmap()ed by glibc's fallback: nothing fails, those blocks
// just keep the old cost. libtorch allocates the large activations from the
// thread that runs the model (the main arena, which has no such limit).
//
// Call once, early, from a program's main path (the library never calls it).
// A no-op where the C library is not glibc. Returns whether it took effect.
bool keep_freed_memory_for_reuse();

}  // namespace molearn
