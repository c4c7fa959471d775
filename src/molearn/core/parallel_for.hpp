// One small parallel loop for the library's plain C++ code (no torch):
// metrics over frames, neighbour searches. Work is split into contiguous
// chunks, one per thread; the first exception thrown by any chunk is
// re-thrown in the caller once every thread has stopped.
#pragma once

#include <cstddef>
#include <functional>

namespace molearn {

// The number of threads to use when the user asked for `requested` (0: every
// core the process may use). Never less than 1.
int resolve_thread_count(int requested);

// Calls body(begin, end) on disjoint ranges covering [0, n), on up to
// `threads` threads (resolve_thread_count(threads)). Runs inline when n is
// small or one thread is asked for.
void parallel_for(std::size_t n, int threads, const std::function<void(std::size_t, std::size_t)>& body);

}  // namespace molearn
