#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "molearn/core/random.hpp"

using namespace molearn;

TEST(StandardNormals, HaveMeanZeroVarianceOneAndGaussianTails) {
  std::mt19937_64 rng(42);
  const auto values = standard_normals(200001, rng);  // odd: the last pair is cut
  ASSERT_EQ(values.size(), 200001u);
  double sum = 0, squares = 0;
  std::size_t beyond_two = 0;
  for (double v : values) {
    ASSERT_TRUE(std::isfinite(v));
    sum += v;
    squares += v * v;
    beyond_two += std::abs(v) > 2;
  }
  const double n = static_cast<double>(values.size());
  EXPECT_NEAR(sum / n, 0.0, 0.01);  // standard error 0.0022
  EXPECT_NEAR(squares / n, 1.0, 0.015);
  EXPECT_NEAR(static_cast<double>(beyond_two) / n, 0.0455, 0.003);  // P(|Z| > 2) of a normal
}

TEST(StandardNormals, AreTheSameForTheSameSeed) {
  std::mt19937_64 a(7), b(7), c(8);
  const auto first = standard_normals(10, a);
  EXPECT_EQ(first, standard_normals(10, b));
  EXPECT_NE(first, standard_normals(10, c));
}

TEST(UniformUnit, StaysInTheHalfOpenUnitInterval) {
  std::mt19937_64 rng(1);
  double low = 1, high = 0;
  for (int i = 0; i < 100000; ++i) {
    const double u = uniform_unit(rng);
    ASSERT_GE(u, 0.0);
    ASSERT_LT(u, 1.0);
    low = std::min(low, u);
    high = std::max(high, u);
  }
  EXPECT_LT(low, 1e-3);
  EXPECT_GT(high, 1 - 1e-3);
}
