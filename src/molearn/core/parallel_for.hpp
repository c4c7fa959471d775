// The library's one thread pool: metrics over frames, neighbour searches,
// the models' kNN kernels, the soft-core energies and the OpenMM context
// pool all run on it. (libtorch's at::parallel_for would be the natural
// choice in the torch code, but its OpenMP loop is header-inline and runs
// serially in files built without -fopenmp, as molearn's are; the torch
// callers pass at::get_num_threads() so torch::set_num_threads applies.)
// The first exception thrown by any chunk or task is re-thrown in the
// caller once every thread has stopped.
#pragma once

#include <cstddef>
#include <functional>

namespace molearn {

// The number of threads to use when the user asked for `requested` (0: every
// core the process may use). Never less than 1.
int resolve_thread_count(int requested);

// Calls body(begin, end) on disjoint contiguous ranges covering [0, n), one
// per thread, on up to `threads` threads (resolve_thread_count(threads)),
// and no more threads than chunks of `min_chunk` items (thread start-up
// costs more than a few items' work). Runs inline when one thread suffices.
void parallel_for(std::size_t n, int threads, const std::function<void(std::size_t, std::size_t)>& body,
                  std::size_t min_chunk = 1);

// Calls task(index, worker) for every index in [0, count), each index going
// to whichever of up to `threads` workers is free (for tasks of uneven
// cost); `worker` in [0, threads) names the thread, for per-thread state.
// After a task throws, no new task starts.
void parallel_tasks(std::size_t count, int threads, const std::function<void(std::size_t, std::size_t)>& task);

}  // namespace molearn
