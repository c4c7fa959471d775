#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <limits>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include "molearn/analysis/metric_table.hpp"
#include "molearn/core/error.hpp"
#include "molearn/core/parallel_for.hpp"

namespace molearn {
namespace {

TEST(MetricTable, SummaryLeavesOutNonFiniteValuesAndCountsThem) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  MetricTable t{{"a", "b"}, {{1.0, nan}, {3.0, nan}, {nan, nan}}};
  const auto s = summarise(t);
  ASSERT_EQ(s.size(), 2u);
  EXPECT_DOUBLE_EQ(s[0].mean, 2.0);
  EXPECT_DOUBLE_EQ(s[0].min, 1.0);
  EXPECT_DOUBLE_EQ(s[0].max, 3.0);
  EXPECT_EQ(s[0].finite, 2u);
  EXPECT_EQ(s[0].not_finite, 1u);
  EXPECT_TRUE(std::isnan(s[1].mean));
  EXPECT_EQ(s[1].not_finite, 3u);
}

TEST(MetricTable, AppendColumnsNeedsTheSameFrames) {
  MetricTable t{{"a"}, {{1.0}, {2.0}}};
  t.append_columns(MetricTable{{"b"}, {{5.0}, {6.0}}});
  EXPECT_EQ(t.column("b")[1], 6.0);
  EXPECT_THROW(t.append_columns(MetricTable{{"c"}, {{1.0}}}), Error);
  EXPECT_THROW(t.column("missing"), InputError);
}

TEST(ParallelFor, CoversEveryIndexOnceAndRethrows) {
  std::vector<int> hits(1000, 0);
  parallel_for(hits.size(), 4, [&](std::size_t b, std::size_t e) {
    for (std::size_t i = b; i < e; ++i) ++hits[i];
  });
  for (int h : hits) ASSERT_EQ(h, 1);
  EXPECT_THROW(parallel_for(10, 3,
                            [](std::size_t b, std::size_t) {
                              if (b > 0) throw InputError("chunk failed");
                            }),
               InputError);
}

TEST(ParallelFor, MinimumChunkLimitsTheThreads) {
  std::mutex mutex;
  std::set<std::thread::id> threads;
  std::size_t chunks = 0;
  parallel_for(
      100, 8,
      [&](std::size_t b, std::size_t e) {
        const std::lock_guard lock(mutex);
        threads.insert(std::this_thread::get_id());
        ++chunks;
        EXPECT_GE(e - b, 40u);
      },
      40);
  EXPECT_EQ(chunks, 2u) << "100 items in chunks of at least 40: 2 chunks, not 8";
  EXPECT_EQ(threads.size(), 2u);
}

TEST(ParallelTasks, RunsEveryTaskOnceOnNamedWorkersAndStopsAfterAFailure) {
  std::vector<std::atomic<int>> hits(500);
  std::vector<std::atomic<int>> per_worker(3);
  parallel_tasks(hits.size(), 3, [&](std::size_t i, std::size_t worker) {
    ASSERT_LT(worker, 3u);
    ++hits[i];
    ++per_worker[worker];
  });
  for (const auto& h : hits) ASSERT_EQ(h.load(), 1);
  EXPECT_EQ(per_worker[0] + per_worker[1] + per_worker[2], 500);
  std::atomic<int> started{0};
  EXPECT_THROW(parallel_tasks(10000, 2,
                              [&](std::size_t i, std::size_t) {
                                ++started;
                                if (i == 3) throw InputError("task 3 failed");
                                // Long enough that the other worker cannot finish everything
                                // (0.5 s) while the exception is on its way.
                                std::this_thread::sleep_for(std::chrono::microseconds(100));
                              }),
               InputError);
  EXPECT_LT(started.load(), 1000) << "no new task starts after one has thrown";
  parallel_tasks(0, 4, [](std::size_t, std::size_t) { FAIL() << "no task to run"; });
}

}  // namespace
}  // namespace molearn
