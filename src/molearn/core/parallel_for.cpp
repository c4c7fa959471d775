#include "molearn/core/parallel_for.hpp"

#include <algorithm>
#include <atomic>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

namespace molearn {

int resolve_thread_count(int requested) {
  if (requested > 0) return requested;
  return static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
}

namespace {

// Runs work(w) for w in [0, workers): w = 0 on the calling thread, the
// others on new threads; re-throws the first exception after all joined.
// `failed` is set as soon as one throws, for work that checks it.
void run_workers(std::size_t workers, std::atomic<bool>& failed, const std::function<void(std::size_t)>& work) {
  std::exception_ptr failure;
  std::mutex failure_mutex;
  auto run = [&](std::size_t w) {
    try {
      work(w);
    } catch (...) {
      failed = true;
      const std::lock_guard<std::mutex> lock(failure_mutex);
      if (!failure) failure = std::current_exception();
    }
  };
  std::vector<std::thread> pool;
  pool.reserve(workers > 0 ? workers - 1 : 0);
  for (std::size_t w = 1; w < workers; ++w) pool.emplace_back(run, w);
  if (workers > 0) run(0);
  for (std::thread& t : pool) t.join();
  if (failure) std::rethrow_exception(failure);
}

}  // namespace

void parallel_for(std::size_t n, int threads, const std::function<void(std::size_t, std::size_t)>& body,
                  std::size_t min_chunk) {
  if (n == 0) return;
  const std::size_t chunks = std::max<std::size_t>(1, n / std::max<std::size_t>(min_chunk, 1));
  const std::size_t workers = std::min<std::size_t>(static_cast<std::size_t>(resolve_thread_count(threads)), chunks);
  if (workers <= 1) {
    body(0, n);
    return;
  }
  std::atomic<bool> failed{false};
  run_workers(workers, failed, [&](std::size_t w) { body(n * w / workers, n * (w + 1) / workers); });
}

void parallel_tasks(std::size_t count, int threads, const std::function<void(std::size_t, std::size_t)>& task) {
  const std::size_t workers = std::min<std::size_t>(static_cast<std::size_t>(resolve_thread_count(threads)), count);
  std::atomic<std::size_t> next{0};
  std::atomic<bool> failed{false};
  run_workers(workers, failed, [&](std::size_t w) {
    for (std::size_t i = next++; i < count && !failed; i = next++) task(i, w);
  });
}

}  // namespace molearn
