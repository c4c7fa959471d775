// The GUI's job queue: one job at a time, identical requests share a job,
// progress is visible while it runs, cancel stops it, failures are kept.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <stdexcept>
#include <thread>

#include "molearn/gui/job_queue.hpp"

using molearn::gui::JobQueue;
using nlohmann::json;

namespace {

json wait_until_finished(const JobQueue& queue, const std::string& id) {
  for (int i = 0; i < 2000; ++i) {
    const auto s = queue.status(id);
    if (!s) return json();
    const std::string state = (*s)["state"];
    if (state == "done" || state == "failed" || state == "cancelled") return *s;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return json();
}

}  // namespace

TEST(JobQueue, RunsAJobAndKeepsItsResultAndProgress) {
  JobQueue queue;
  const auto id = queue.submit("a", 3, [](const auto& progress, const auto&) {
    for (std::size_t k = 1; k <= 3; ++k) progress(k, 3);
    return std::optional<json>(json{{"answer", 42}});
  });
  const json s = wait_until_finished(queue, id);
  EXPECT_EQ(s["state"], "done");
  EXPECT_EQ(s["done"], 3);
  EXPECT_EQ(s["total"], 3);
  EXPECT_EQ(s["result"]["answer"], 42);
  EXPECT_FALSE(queue.status("999").has_value());
  EXPECT_FALSE(queue.cancel("999"));
}

TEST(JobQueue, IdenticalRequestsShareAJobUntilItFinishes) {
  JobQueue queue;
  std::atomic<bool> release{false};
  std::atomic<int> runs{0};
  auto work = [&](const auto&, const auto&) {
    ++runs;
    while (!release) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    return std::optional<json>(json(1));
  };
  const auto first = queue.submit("map", 1, work);
  EXPECT_EQ(queue.submit("map", 1, work), first);
  const auto other = queue.submit("other", 1, work);
  EXPECT_NE(other, first);
  release = true;
  EXPECT_EQ(wait_until_finished(queue, first)["state"], "done");
  EXPECT_EQ(wait_until_finished(queue, other)["state"], "done");
  EXPECT_EQ(runs.load(), 2);
  // Once finished, the same key starts a new job.
  EXPECT_NE(queue.submit("map", 1, work), first);
}

TEST(JobQueue, CancelStopsARunningJobBetweenBatches) {
  JobQueue queue;
  std::atomic<bool> started{false};
  const auto id = queue.submit("long", 1000000, [&](const auto& progress, const auto& stop) -> std::optional<json> {
    started = true;
    for (std::size_t k = 0; k < 1000000; ++k) {
      if (stop()) return std::nullopt;
      progress(k, 1000000);
      std::this_thread::sleep_for(std::chrono::microseconds(50));
    }
    return json(1);
  });
  while (!started) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  EXPECT_TRUE(queue.cancel(id));
  const json s = wait_until_finished(queue, id);
  EXPECT_EQ(s["state"], "cancelled");
  EXPECT_LT(s["done"].get<std::size_t>(), 1000000u);
}

TEST(JobQueue, AFailedJobKeepsItsMessageAndTheQueueGoesOn) {
  JobQueue queue;
  const auto bad = queue.submit("bad", 1, [](const auto&, const auto&) -> std::optional<json> {
    throw std::runtime_error("the reference tables are missing");
  });
  const auto good = queue.submit("good", 1, [](const auto&, const auto&) { return std::optional<json>(json(2)); });
  const json s = wait_until_finished(queue, bad);
  EXPECT_EQ(s["state"], "failed");
  EXPECT_EQ(s["error"], "the reference tables are missing");
  EXPECT_EQ(wait_until_finished(queue, good)["result"], 2);
}

TEST(JobQueue, DestroyingTheQueueStopsARunningJob) {
  std::atomic<bool> stopped{false};
  {
    JobQueue queue;
    std::atomic<bool> started{false};
    queue.submit("forever", 1, [&](const auto&, const auto& stop) -> std::optional<json> {
      started = true;
      while (!stop()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
      stopped = true;
      return std::nullopt;
    });
    while (!started) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  EXPECT_TRUE(stopped.load());
}

TEST(JobQueue, BoundsTheJobsWaitingOrRunning) {
  JobQueue queue(2);
  std::atomic<bool> release{false};
  auto work = [&](const auto&, const auto& stop) -> std::optional<json> {
    while (!release && !stop()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    return json(1);
  };
  const auto a = queue.submit("a", 1, work);
  const auto b = queue.submit("b", 1, work);
  EXPECT_THROW(queue.submit("c", 1, work), molearn::gui::JobQueueFull);
  EXPECT_EQ(queue.submit("a", 1, work), a);  // joining a job takes no place
  EXPECT_TRUE(queue.cancel(b));              // a cancelled job frees its place
  const auto c = queue.submit("c", 1, work);
  release = true;
  EXPECT_EQ(wait_until_finished(queue, a)["state"], "done");
  EXPECT_EQ(wait_until_finished(queue, c)["state"], "done");
}
