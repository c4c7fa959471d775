#include <gtest/gtest.h>

#include <cmath>
#include <limits>

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

}  // namespace
}  // namespace molearn
