#include "molearn/gui/job_queue.hpp"

#include <algorithm>
#include <atomic>
#include <exception>

namespace molearn::gui {

namespace {
// Finished jobs kept for polling; older ones are forgotten.
constexpr std::size_t kFinishedJobsKept = 64;
}  // namespace

struct JobQueue::Job {
  std::string id, key;
  Work work;
  std::string state = "queued";  // guarded by the queue's mutex, as error and result
  std::string error;
  nlohmann::json result;
  std::atomic<std::size_t> done{0}, total{0};
  std::atomic<bool> cancel{false};
  bool finished() const { return state == "done" || state == "failed" || state == "cancelled"; }
};

JobQueue::JobQueue(std::size_t max_unfinished) : max_unfinished_(max_unfinished), worker_([this] { run(); }) {}

JobQueue::~JobQueue() {
  {
    std::lock_guard lock(mutex_);
    shutting_down_ = true;
    for (auto& [id, job] : jobs_) job->cancel = true;
  }
  wake_.notify_all();
  worker_.join();
}

std::string JobQueue::submit(const std::string& key, std::size_t total, Work work) {
  std::lock_guard lock(mutex_);
  std::size_t unfinished = 0;
  for (const auto& [id, job] : jobs_) {
    if (job->key == key && !job->finished() && !job->cancel) return id;
    unfinished += !job->finished();
  }
  if (unfinished >= max_unfinished_)
    throw JobQueueFull(std::to_string(unfinished) +
                       " maps are being computed or waiting; wait for one to finish, or cancel one");
  auto job = std::make_shared<Job>();
  job->id = std::to_string(next_id_++);
  job->key = key;
  job->work = std::move(work);
  job->total = total;
  // Forget the oldest finished jobs (ids grow, so the map's order is age).
  std::size_t finished = 0;
  for (const auto& [id, j] : jobs_) finished += j->finished();
  for (auto it = jobs_.begin(); it != jobs_.end() && finished >= kFinishedJobsKept;) {
    if (it->second->finished()) {
      it = jobs_.erase(it);
      --finished;
    } else {
      ++it;
    }
  }
  jobs_[job->id] = job;
  queue_.push_back(job);
  wake_.notify_one();
  return job->id;
}

std::optional<nlohmann::json> JobQueue::status(const std::string& id) const {
  std::lock_guard lock(mutex_);
  const auto it = jobs_.find(id);
  if (it == jobs_.end()) return std::nullopt;
  const Job& job = *it->second;
  nlohmann::json j = {{"job", job.id}, {"state", job.state}, {"done", job.done.load()}, {"total", job.total.load()}};
  if (job.state == "failed") j["error"] = job.error;
  if (job.state == "done") j["result"] = job.result;
  return j;
}

bool JobQueue::cancel(const std::string& id) {
  std::lock_guard lock(mutex_);
  const auto it = jobs_.find(id);
  if (it == jobs_.end()) return false;
  it->second->cancel = true;
  if (it->second->state == "queued") {
    it->second->state = "cancelled";
    std::erase(queue_, it->second);  // it will never run: free its place now
  }
  return true;
}

void JobQueue::run() {
  for (;;) {
    std::shared_ptr<Job> job;
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [this] { return shutting_down_ || !queue_.empty(); });
      if (shutting_down_) return;
      job = queue_.front();
      queue_.pop_front();
      if (job->cancel) continue;  // cancelled while queued
      job->state = "running";
    }
    std::string state = "done", error;
    nlohmann::json result;
    try {
      auto progress = [&job](std::size_t done, std::size_t total) {
        job->done = done;
        job->total = total;
      };
      auto stop = [&job] { return job->cancel.load(); };
      if (auto r = job->work(progress, stop))
        result = std::move(*r);
      else
        state = "cancelled";
    } catch (const std::exception& e) {
      state = "failed";
      error = e.what();
    } catch (...) {
      state = "failed";
      error = "an unknown error";
    }
    std::lock_guard lock(mutex_);
    job->state = state;
    job->error = error;
    job->result = std::move(result);
    job->work = nullptr;
  }
}

}  // namespace molearn::gui
