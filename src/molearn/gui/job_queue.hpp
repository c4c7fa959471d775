// Long work of `molearn gui` (maps of thousands of decoded structures) runs
// as jobs on one worker thread, so that a request answers at once with a job
// to poll, the page stays responsive, and the model is never asked for two
// maps at once. Identical requests share one job; a job can be cancelled.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <thread>

#include "molearn/core/error.hpp"

namespace molearn::gui {

// More jobs are waiting or running than the queue takes (the API answers
// 503: wait, or cancel one).
class JobQueueFull : public Error {
 public:
  using Error::Error;
};

class JobQueue {
 public:
  // What a job does: reports (done, total) through `progress`, checks
  // `stop` between batches, and returns its result, or nothing when stopped.
  using Work = std::function<std::optional<nlohmann::json>(
      const std::function<void(std::size_t, std::size_t)>& progress, const std::function<bool()>& stop)>;

  // At most `max_unfinished` jobs queued or running at once: each map is
  // minutes of work, so a page (or a script) cannot pile up hours of it.
  explicit JobQueue(std::size_t max_unfinished = 8);
  ~JobQueue();  // cancels what is queued or running and joins the worker
  JobQueue(const JobQueue&) = delete;
  JobQueue& operator=(const JobQueue&) = delete;

  // Queues `work` under `key` and returns the job's id; when a job with the
  // same key is queued or running, returns its id instead. Throws
  // JobQueueFull when max_unfinished jobs are queued or running.
  std::string submit(const std::string& key, std::size_t total, Work work);
  // {"job", "state": queued|running|done|failed|cancelled, "done", "total",
  // "error"?, "result"?}, or nothing for an unknown id.
  std::optional<nlohmann::json> status(const std::string& id) const;
  // Asks the job to stop; false for an unknown id.
  bool cancel(const std::string& id);

 private:
  struct Job;
  void run();

  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<std::shared_ptr<Job>> queue_;
  std::map<std::string, std::shared_ptr<Job>> jobs_;  // every job, finished ones pruned oldest first
  std::size_t max_unfinished_;
  std::size_t next_id_ = 1;
  bool shutting_down_ = false;
  std::thread worker_;
};

}  // namespace molearn::gui
