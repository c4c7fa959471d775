// The fused kNN kernels of the FoldingNet encoder against brute force and
// against the plain-libtorch reference formulations.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <set>
#include <string>
#include <vector>

#include "molearn/models/knn.hpp"

namespace {

using molearn::knn::knn_indices;
using molearn::knn::knn_indices_reference;
using molearn::knn::local_covariance;
using molearn::knn::local_covariance_reference;
using molearn::knn::neighbour_max;
using molearn::knn::neighbour_max_reference;

// Restores the thread count a test changes.
class ThreadCountGuard {
 public:
  ThreadCountGuard() : saved_(torch::get_num_threads()) {}
  ~ThreadCountGuard() { torch::set_num_threads(saved_); }
  ThreadCountGuard(const ThreadCountGuard&) = delete;
  ThreadCountGuard& operator=(const ThreadCountGuard&) = delete;

 private:
  int saved_;
};

torch::Tensor random_points(std::int64_t b, std::int64_t c, std::int64_t n, torch::Dtype dtype, std::uint64_t seed) {
  torch::manual_seed(seed);
  return torch::randn({b, c, n}, torch::dtype(dtype));
}

// Exact squared distances in double: [B, N, N].
torch::Tensor brute_force_distances(const torch::Tensor& x) {
  auto p = x.to(torch::kDouble).transpose(1, 2);  // [B, N, C]
  return (p.unsqueeze(2) - p.unsqueeze(1)).pow(2).sum(3);
}

// Checks that idx holds, for every row, k distinct valid indices whose
// distances are the k smallest (compared as sorted lists, so ties may pick
// either point), nearest first.
void expect_nearest(const torch::Tensor& x, const torch::Tensor& idx, std::int64_t k, double tolerance) {
  const std::int64_t B = x.size(0), N = x.size(2);
  ASSERT_EQ(idx.sizes(), (std::vector<std::int64_t>{B, N, k}));
  ASSERT_EQ(idx.scalar_type(), torch::kLong);
  auto dist = brute_force_distances(x);
  auto sorted = std::get<0>(dist.sort(2));
  auto d = dist.accessor<double, 3>();
  auto s = sorted.accessor<double, 3>();
  auto id = idx.accessor<std::int64_t, 3>();
  for (std::int64_t b = 0; b < B; ++b)
    for (std::int64_t i = 0; i < N; ++i) {
      std::set<std::int64_t> seen;
      std::vector<double> got;
      for (std::int64_t j = 0; j < k; ++j) {
        const std::int64_t n = id[b][i][j];
        ASSERT_GE(n, 0);
        ASSERT_LT(n, N);
        seen.insert(n);
        got.push_back(d[b][i][n]);
      }
      ASSERT_EQ(static_cast<std::int64_t>(seen.size()), k) << "duplicate neighbour in row " << i;
      for (std::int64_t j = 0; j < k; ++j) {
        ASSERT_NEAR(got[j], s[b][i][j], tolerance * (1.0 + s[b][i][j]))
            << "batch " << b << " row " << i << " rank " << j;
      }
    }
}

TEST(KnnIndices, XyzMatchesBruteForce) {
  for (auto dtype : {torch::kFloat, torch::kDouble}) {
    auto x = random_points(2, 3, 300, dtype, 1);
    auto idx = knn_indices(x, 16);
    expect_nearest(x, idx, 16, 1e-5);
    // Distances over few channels are exact differences: each point is its
    // own first neighbour.
    auto self = torch::arange(300, torch::kLong).view({1, 300}).expand({2, 300});
    EXPECT_TRUE(idx.select(2, 0).equal(self));
  }
}

// Many xyz points take a cell-grid search; awkward geometries must still give
// the exact neighbours.
TEST(KnnIndices, XyzGridHandlesAwkwardGeometries) {
  const std::int64_t n = 400;
  torch::manual_seed(26);
  std::vector<std::pair<std::string, torch::Tensor>> cases;
  auto t = torch::linspace(-5, 5, n);
  cases.emplace_back("line", torch::stack({t, torch::zeros({n}), torch::zeros({n})}).unsqueeze(0));
  auto plane = torch::randn({1, 3, n});
  plane.select(1, 2).zero_();
  cases.emplace_back("plane", plane);
  auto half = torch::randn({1, 3, n / 2});
  cases.emplace_back("duplicates", torch::cat({half, half}, 2));
  auto clusters = torch::randn({1, 3, n});
  clusters.narrow(2, 0, n / 2).add_(1000.0);
  cases.emplace_back("far clusters", clusters);
  cases.emplace_back("one point", torch::full({1, 3, n}, 2.5));
  cases.emplace_back("random walk", (torch::randn({1, 3, 2000}) * 1.5).cumsum(2));
  cases.emplace_back("large coordinates", torch::randn({1, 3, n}) + 1e4);
  for (const auto& [name, x] : cases) {
    SCOPED_TRACE(name);
    for (std::int64_t k : {1, 16, 40}) expect_nearest(x, knn_indices(x, k), k, 1e-5);
    // Same distances as the brute-force kernel (a 4th, zero channel forces
    // it): identical arithmetic, so identical values.
    auto x4 = torch::cat({x, torch::zeros({1, 1, x.size(2)})}, 1);
    auto grid = knn_indices(x, 16), direct = knn_indices(x4, 16);
    auto dist = [&](const torch::Tensor& idx) {
      auto p = x.transpose(1, 2);  // [1, N, 3]
      auto nb = p.index_select(1, idx.view(-1)).view({idx.size(1), 16, 3});
      return (nb - p.view({-1, 1, 3})).pow(2).sum(2);
    };
    EXPECT_TRUE(torch::allclose(dist(grid), dist(direct), 0, 0));
  }
}

TEST(KnnIndices, FeatureSpaceMatchesBruteForce) {
  for (std::int64_t c : {9, 64, 128}) {
    auto xf = random_points(2, c, 257, torch::kFloat, 2);
    expect_nearest(xf, knn_indices(xf, 16), 16, 1e-4);
    auto xd = random_points(2, c, 257, torch::kDouble, 3);
    expect_nearest(xd, knn_indices(xd, 16), 16, 1e-10);
  }
}

TEST(KnnIndices, SmallAndEdgeSizes) {
  // k = N (every point is a neighbour), k = 1 (only the point itself), and a
  // size that leaves a partial row tile.
  auto x = random_points(3, 3, 10, torch::kDouble, 4);
  expect_nearest(x, knn_indices(x, 10), 10, 1e-12);
  auto one = knn_indices(x, 1);
  EXPECT_TRUE(one.squeeze(2).equal(torch::arange(10, torch::kLong).expand({3, 10})));
  auto f = random_points(1, 64, 2, torch::kFloat, 5);
  expect_nearest(f, knn_indices(f, 2), 2, 1e-5);
  auto g = random_points(1, 70, 65, torch::kDouble, 6);
  expect_nearest(g, knn_indices(g, 16), 16, 1e-10);
}

TEST(KnnIndices, AgreesWithReference) {
  auto x = random_points(2, 64, 200, torch::kDouble, 7);
  auto fused = knn_indices(x, 16);
  auto reference = knn_indices_reference(x, 16);
  // Same neighbour sets (random data has no ties), compared sorted.
  EXPECT_TRUE(std::get<0>(fused.sort(2)).equal(std::get<0>(reference.sort(2))));
}

// Rows with many exactly equal distances (small integer features, so every
// path computes them exactly): each row's neighbours are the first k of its
// points sorted by distance, then by index, the lowest index winning a tie.
// Covers the direct path (few channels), the matrix-product path (many), in
// both precisions, with k from 1 to more than the 16-value blocks per row.
TEST(KnnIndices, TiesGoToTheLowestIndex) {
  for (auto dtype : {torch::kFloat, torch::kDouble})
    for (std::int64_t c : {4, 16})
      for (std::int64_t k : {1, 5, 16, 40}) {
        torch::manual_seed(30 + c + k);
        const std::int64_t n = c == 4 ? 100 : 301;  // the direct path's xyz grid needs 3 channels
        auto x = torch::randint(-1, 2, {2, c, n}, torch::dtype(dtype));
        auto dist = brute_force_distances(x);  // exact: small integers
        auto order = std::get<1>(dist.sort(/*stable=*/true, /*dim=*/2, /*descending=*/false));
        auto expected = order.narrow(2, 0, k);
        EXPECT_TRUE(knn_indices(x, k).equal(expected)) << dtype << " C=" << c << " k=" << k;
      }
}

TEST(KnnIndices, AcceptsNonContiguousInput) {
  auto base = random_points(2, 300, 3, torch::kDouble, 8);  // [B, N, 3]
  auto x = base.transpose(1, 2);                            // [B, 3, N] view
  EXPECT_TRUE(knn_indices(x, 8).equal(knn_indices(x.contiguous(), 8)));
}

TEST(KnnIndices, RejectsInvalidArguments) {
  auto x = random_points(1, 3, 10, torch::kFloat, 9);
  EXPECT_THROW(knn_indices(x, 0), c10::Error);
  EXPECT_THROW(knn_indices(x, 11), c10::Error);
  EXPECT_THROW(knn_indices(x.to(torch::kLong), 4), c10::Error);
  EXPECT_THROW(knn_indices(x.view({3, 10}), 4), c10::Error);
}

TEST(KnnIndices, NonFiniteFeaturesStillGiveValidIndices) {
  // A diverged model can produce NaN features; the kernel must not return
  // indices that would read out of bounds.
  auto x = random_points(1, 64, 50, torch::kFloat, 10);
  x[0][0][7] = std::nanf("");
  x[0][1][9] = INFINITY;
  auto idx = knn_indices(x, 16);
  EXPECT_GE(idx.min().item<std::int64_t>(), 0);
  EXPECT_LT(idx.max().item<std::int64_t>(), 50);
}

TEST(KnnNeighbourMax, ForwardEqualsGatherMax) {
  for (auto dtype : {torch::kFloat, torch::kDouble}) {
    auto x = random_points(2, 64, 150, dtype, 11);
    auto idx = knn_indices(x, 16);
    auto fused = neighbour_max(x, idx);
    EXPECT_EQ(fused.sizes(), x.sizes());
    EXPECT_TRUE(fused.equal(neighbour_max_reference(x, idx)));
  }
}

TEST(KnnNeighbourMax, FewerOutputRowsThanPoints) {
  auto x = random_points(2, 5, 30, torch::kDouble, 12);
  torch::manual_seed(13);
  auto idx = torch::randint(0, 30, {2, 7, 4}, torch::kLong);
  EXPECT_TRUE(neighbour_max(x, idx).equal(neighbour_max_reference(x, idx)));
}

TEST(KnnNeighbourMax, BackwardMatchesReference) {
  auto x0 = random_points(2, 32, 120, torch::kDouble, 14);
  auto idx = knn_indices(x0, 16);
  torch::manual_seed(15);
  auto upstream = torch::randn({2, 32, 120}, torch::kDouble);

  auto xa = x0.clone().requires_grad_();
  (neighbour_max(xa, idx) * upstream).sum().backward();
  auto xb = x0.clone().requires_grad_();
  (neighbour_max_reference(xb, idx) * upstream).sum().backward();
  EXPECT_TRUE(torch::allclose(xa.grad(), xb.grad(), 1e-12, 1e-12));
  // Sanity: the gradient is not trivially zero.
  EXPECT_GT(xa.grad().abs().sum().item<double>(), 1.0);
}

// The kernel compares whole channel rows of a points-major copy, in vector
// lanes: odd channel counts (lane tails), output tiles cut short, many ties
// (the first maximum wins, and takes the gradient), NaNs (which win and
// stick) and a channel slice of a larger tensor must all give torch's answer.
TEST(KnnNeighbourMax, MatchesTorchWithTiesNansAndOddSizes) {
  for (auto dtype : {torch::kFloat, torch::kDouble})
    for (std::int64_t channels : {1, 5, 37, 130}) {
      torch::manual_seed(40 + channels);
      auto wide = torch::round(2 * torch::randn({2, channels + 3, 45}, dtype));  // few distinct values
      wide[0][2][3] = std::nan("");                                              // the slice's first channel
      wide[1][channels + 1][44] = std::nan("");                                  // its last
      const auto x0 = wide.narrow(1, 2, channels);                               // not contiguous
      const auto idx = torch::randint(0, 45, {2, 21, 7}, torch::kLong);
      auto wide_a = wide.clone().requires_grad_(), xb = x0.clone().requires_grad_();
      const auto xa = wide_a.narrow(1, 2, channels);  // the gradient path on a slice too
      const auto fused = neighbour_max(xa, idx), reference = neighbour_max_reference(xb, idx);
      EXPECT_TRUE(torch::allclose(fused, reference, 0, 0, /*equal_nan=*/true)) << dtype << " C=" << channels;
      EXPECT_TRUE(torch::allclose(neighbour_max(x0, idx), reference, 0, 0, true)) << "no-gradient path";
      const auto upstream = torch::randn({2, channels, 21}, dtype);
      (fused.nan_to_num(0) * upstream).sum().backward();
      (reference.nan_to_num(0) * upstream).sum().backward();
      const auto grad_a = wide_a.grad().narrow(1, 2, channels);
      EXPECT_TRUE(torch::allclose(grad_a, xb.grad(), 1e-6, 1e-6)) << dtype << " C=" << channels;
      EXPECT_EQ(wide_a.grad().narrow(1, 0, 2).abs().sum().item<double>(), 0.0) << "outside the slice";
    }
}

TEST(KnnNeighbourMax, RefusesDoubleBackward) {
  auto x = random_points(1, 4, 20, torch::kDouble, 25).requires_grad_();
  auto idx = knn_indices(x, 4);
  auto y = neighbour_max(x, idx).pow(2).sum();
  EXPECT_THROW(torch::autograd::grad({y}, {x}, {}, /*retain_graph=*/true, /*create_graph=*/true), c10::Error);
  auto c = local_covariance(x.narrow(1, 0, 3), knn_indices(x.narrow(1, 0, 3), 4)).pow(2).sum();
  EXPECT_THROW(torch::autograd::grad({c}, {x}, {}, true, true), c10::Error);
}

TEST(KnnNeighbourMax, RejectsOutOfRangeIndices) {
  auto x = random_points(1, 4, 10, torch::kFloat, 16);
  auto idx = torch::zeros({1, 10, 3}, torch::kLong);
  idx[0][2][1] = 10;
  EXPECT_THROW(neighbour_max(x, idx), c10::Error);
  idx[0][2][1] = -1;
  EXPECT_THROW(neighbour_max(x, idx), c10::Error);
  EXPECT_THROW(neighbour_max(x, idx.to(torch::kInt)), c10::Error);
}

TEST(KnnCovariance, ForwardMatchesReference) {
  for (auto dtype : {torch::kFloat, torch::kDouble}) {
    auto x = random_points(2, 3, 200, dtype, 17);
    auto idx = knn_indices(x, 16);
    auto fused = local_covariance(x, idx);
    auto reference = local_covariance_reference(x, idx);
    ASSERT_EQ(fused.sizes(), (std::vector<std::int64_t>{2, 9, 200}));
    const double tol = dtype == torch::kFloat ? 1e-5 : 1e-12;
    EXPECT_TRUE(torch::allclose(fused, reference, tol, tol));
  }
}

TEST(KnnCovariance, ForwardMatchesDirectFormula) {
  // One point by hand: neighbours (0,0,0), (2,0,0), (0,4,0) -> mean
  // (2/3, 4/3, 0), C = Y^T Y.
  auto x = torch::tensor({0.0, 2.0, 0.0, 0.0, 0.0, 4.0, 0.0, 0.0, 0.0}, torch::kDouble).view({1, 3, 3});
  auto idx = torch::tensor({0, 1, 2, 1, 0, 2, 2, 1, 0}, torch::kLong).view({1, 3, 3});
  auto cov = local_covariance(x, idx);
  // Y rows: (-2/3, -4/3, 0), (4/3, -4/3, 0), (-2/3, 8/3, 0)
  const double cxx = 4.0 / 9 + 16.0 / 9 + 4.0 / 9, cxy = 8.0 / 9 - 16.0 / 9 - 16.0 / 9,
               cyy = 16.0 / 9 + 16.0 / 9 + 64.0 / 9;
  auto expected = torch::tensor({cxx, cxy, 0.0, cxy, cyy, 0.0, 0.0, 0.0, 0.0}, torch::kDouble);
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(torch::allclose(cov[0].select(1, i), expected, 1e-12, 1e-12));
}

TEST(KnnCovariance, BackwardMatchesReference) {
  auto x0 = random_points(2, 3, 150, torch::kDouble, 18);
  auto idx = knn_indices(x0, 16);
  torch::manual_seed(19);
  auto upstream = torch::randn({2, 9, 150}, torch::kDouble);
  auto xa = x0.clone().requires_grad_();
  (local_covariance(xa, idx) * upstream).sum().backward();
  auto xb = x0.clone().requires_grad_();
  (local_covariance_reference(xb, idx) * upstream).sum().backward();
  EXPECT_TRUE(torch::allclose(xa.grad(), xb.grad(), 1e-10, 1e-10));
}

TEST(KnnCovariance, BackwardMatchesFiniteDifferences) {
  // gradcheck by hand: central differences of a random projection.
  auto x0 = random_points(2, 3, 12, torch::kDouble, 20);
  auto idx = knn_indices(x0, 5);
  torch::manual_seed(21);
  auto upstream = torch::randn({2, 9, 12}, torch::kDouble);
  auto loss = [&](const torch::Tensor& x) { return (local_covariance(x, idx) * upstream).sum().item<double>(); };
  auto xa = x0.clone().requires_grad_();
  (local_covariance(xa, idx) * upstream).sum().backward();
  auto analytic = xa.grad();
  auto flat = x0.view(-1);
  const double h = 1e-6;
  for (std::int64_t e = 0; e < flat.numel(); ++e) {
    auto plus = x0.clone();
    auto minus = x0.clone();
    plus.view(-1)[e] += h;
    minus.view(-1)[e] -= h;
    const double numeric = (loss(plus) - loss(minus)) / (2 * h);
    EXPECT_NEAR(analytic.view(-1)[e].item<double>(), numeric, 1e-6) << "element " << e;
  }
}

TEST(KnnThreads, MultiThreadEqualsSingleThread) {
  ThreadCountGuard guard;
  auto xyz = random_points(3, 3, 300, torch::kFloat, 22);
  // Sizes large enough that every kernel (forward and backward) splits its
  // work over both threads.
  auto feat = random_points(3, 160, 300, torch::kFloat, 23);
  torch::manual_seed(24);
  auto up_cov = torch::randn({3, 9, 300});
  auto up_max = torch::randn({3, 160, 300});

  auto run = [&] {
    auto idx_xyz = knn_indices(xyz, 16);
    auto idx_feat = knn_indices(feat, 16);
    auto x = xyz.clone().requires_grad_();
    auto f = feat.clone().requires_grad_();
    auto cov = local_covariance(x, idx_xyz);
    auto pooled = neighbour_max(f, idx_feat);
    ((cov * up_cov).sum() + (pooled * up_max).sum()).backward();
    return std::vector<torch::Tensor>{idx_xyz, idx_feat, cov.detach(), pooled.detach(), x.grad(), f.grad()};
  };
  torch::set_num_threads(1);
  auto one = run();
  torch::set_num_threads(2);
  auto two = run();
  for (std::size_t i = 0; i < one.size(); ++i) EXPECT_TRUE(one[i].equal(two[i])) << "output " << i;
}

}  // namespace
