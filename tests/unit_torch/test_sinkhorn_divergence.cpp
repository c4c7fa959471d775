#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "molearn/core/error.hpp"
#include "molearn/train/sinkhorn_divergence.hpp"

using namespace molearn;

namespace {

// A cloud of 12 points in 30 dimensions: a batch of small flattened structures.
torch::Tensor cloud(std::int64_t points = 12, std::int64_t dims = 30, std::uint64_t seed = 3) {
  torch::manual_seed(seed);
  return torch::randn({points, dims}, torch::kFloat32);
}

double value(const torch::Tensor& t) { return t.item<double>(); }

}  // namespace

TEST(SinkhornDivergence, ZeroBetweenACloudAndItself) {
  const auto x = cloud();
  EXPECT_NEAR(value(sinkhorn_divergence(x, x)), 0.0, 1e-6);
  // The order of the points does not matter.
  const auto shuffled = x.index_select(0, torch::randperm(x.size(0)));
  EXPECT_NEAR(value(sinkhorn_divergence(x, shuffled)), 0.0, 1e-4);
}

TEST(SinkhornDivergence, TwoSinglePointsCostHalfTheirSquaredDistance) {
  const auto x = torch::tensor({{1.0f, 2.0f, 3.0f}}), y = torch::tensor({{1.5f, 0.0f, 3.0f}});
  EXPECT_NEAR(value(sinkhorn_divergence(x, y)), (0.25 + 4.0) / 2, 1e-5);
}

// For the quadratic cost, moving a cloud by t adds exactly |t|^2 / 2 to the
// entropic transport cost (the extra terms are separable), and the
// debiasing removes the rest: an identity any blur must reproduce.
TEST(SinkhornDivergence, TranslationCostsHalfTheSquaredShift) {
  const auto x = cloud();
  const auto shift = 0.3 * torch::randn({1, x.size(1)});
  const double expected = value(shift.pow(2).sum()) / 2;
  for (double blur : {0.05, 0.5}) {
    for (double scaling : {0.5, 0.9}) {
      const double s = value(sinkhorn_divergence(x, x + shift, {blur, scaling}));
      EXPECT_NEAR(s, expected, 1e-3 * expected) << "blur " << blur << ", scaling " << scaling;
    }
  }
}

TEST(SinkhornDivergence, GradientOfATranslationMovesEveryPointBack) {
  const auto x = cloud();
  const auto shift = 0.3 * torch::randn({1, x.size(1)});
  const auto y = (x + shift).detach().requires_grad_();
  sinkhorn_divergence(x, y).backward();
  // dS/dy_j = shift / M for uniform weights 1/M.
  const auto expected = shift.expand_as(y) / static_cast<double>(y.size(0));
  EXPECT_LT(value((y.grad() - expected).abs().max()), 1e-3 * value(expected.abs().max()));
}

// The gradient is the derivative of the value: central differences along a
// random direction, for clouds that do not overlap in a simple way.
// Both clouds carry gradient (as a decoded batch against frames would if
// both were learnt): a cost differentiated on the wrong side shows here.
TEST(SinkhornDivergence, GradientMatchesFiniteDifferences) {
  const auto x = cloud(6, 5, 7).to(torch::kFloat64).requires_grad_();
  const auto y = (cloud(9, 5, 8).to(torch::kFloat64) * 1.5).requires_grad_();
  const SinkhornOptions options{0.3, 0.9};
  sinkhorn_divergence(x, y, options).backward();
  torch::manual_seed(11);
  const auto dx = torch::randn_like(x), dy = torch::randn_like(y);
  const double h = 1e-5;
  const torch::NoGradGuard no_grad;
  const double numeric_x =
      (value(sinkhorn_divergence(x + h * dx, y, options)) - value(sinkhorn_divergence(x - h * dx, y, options))) /
      (2 * h);
  const double numeric_y =
      (value(sinkhorn_divergence(x, y + h * dy, options)) - value(sinkhorn_divergence(x, y - h * dy, options))) /
      (2 * h);
  EXPECT_NEAR(value((x.grad() * dx).sum()), numeric_x, 1e-5 * std::max(1.0, std::abs(numeric_x)));
  EXPECT_NEAR(value((y.grad() * dy).sum()), numeric_y, 1e-5 * std::max(1.0, std::abs(numeric_y)));
}

// A training batch late in training: 16 decoded structures of 500 atoms,
// each near one of the 16 frames (in scaled units), at the default blur.
// The iterations settle, and the gradient matches finite differences there.
TEST(SinkhornDivergence, ConvergesOnBatchesOfProteinSize) {
  torch::manual_seed(21);
  const auto base = torch::randn({1, 1500}, torch::kFloat64);
  const auto frames = base + 0.1 * torch::randn({16, 1500}, torch::kFloat64);
  const auto decoded =
      (frames.index_select(0, torch::randperm(16)) + 0.03 * torch::randn({16, 1500}, torch::kFloat64) + 0.01)
          .requires_grad_();
  SinkhornReport report;
  const auto s = sinkhorn_divergence(decoded, frames, {}, &report);
  EXPECT_TRUE(report.converged) << report.final_iterations << " iterations at the final temperature";
  EXPECT_GT(value(s), 0.0);
  s.backward();
  const auto direction = torch::randn_like(decoded);
  const double h = 1e-5;
  const torch::NoGradGuard no_grad;
  const double numeric = (value(sinkhorn_divergence(decoded + h * direction, frames)) -
                          value(sinkhorn_divergence(decoded - h * direction, frames))) /
                         (2 * h);
  EXPECT_NEAR(value((decoded.grad() * direction).sum()), numeric, 1e-4 * std::max(1.0, std::abs(numeric)));
}

TEST(SinkhornDivergence, NonFiniteCoordinatesGiveNanAtOnce) {
  auto x = cloud();
  auto y = x.clone();
  y[2][5] = std::numeric_limits<float>::infinity();
  EXPECT_TRUE(std::isnan(value(sinkhorn_divergence(x, y))));
  y[2][5] = -std::numeric_limits<float>::infinity();
  EXPECT_TRUE(std::isnan(value(sinkhorn_divergence(y, x))));
  y[2][5] = std::nanf("");
  EXPECT_TRUE(std::isnan(value(sinkhorn_divergence(x, y))));
}

TEST(SinkhornDivergence, MatchingDistributionsScoreLowerThanShiftedOnes) {
  // Two samples of one Gaussian are closer than a sample and a shifted one.
  const auto a = cloud(32, 10, 1), b = cloud(32, 10, 2);
  const auto shifted = b + 1.0;
  EXPECT_LT(value(sinkhorn_divergence(a, b)), value(sinkhorn_divergence(a, shifted)));
  EXPECT_GT(value(sinkhorn_divergence(a, b)), 0.0);
}

TEST(SinkhornDivergence, ReturnsTheInputPrecision) {
  const auto x = cloud();
  EXPECT_EQ(sinkhorn_divergence(x, x + 1).scalar_type(), torch::kFloat32);
  EXPECT_EQ(sinkhorn_divergence(x.to(torch::kFloat64), x.to(torch::kFloat64)).scalar_type(), torch::kFloat64);
}

TEST(SinkhornDivergence, RefusesWhatItCannotCompare) {
  const auto x = cloud();
  EXPECT_THROW(sinkhorn_divergence(x, torch::zeros({0, 30})), InputError);
  EXPECT_THROW(sinkhorn_divergence(x, cloud(4, 29)), InputError);
  EXPECT_THROW(sinkhorn_divergence(x.flatten(), x), InputError);
  EXPECT_THROW(sinkhorn_divergence(x, x, {0.0, 0.5}), InputError);
  EXPECT_THROW(sinkhorn_divergence(x, x, {std::nan(""), 0.5}), InputError);
  EXPECT_THROW(sinkhorn_divergence(x, x, {0.05, 1.0}), InputError);
  EXPECT_THROW(sinkhorn_divergence(x, x, {0.05, 0.0}), InputError);
}
