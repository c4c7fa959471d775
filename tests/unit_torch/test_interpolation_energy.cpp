// The log's interpolation energies (train/interpolation_energy.hpp): which
// structures fixed_points_energy and validation_energy decode and how their
// energies are averaged, with a toy decoder and energy whose answer is
// computed here independently (plain doubles, no tensors).
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <vector>

#include "molearn/train/interpolation_energy.hpp"

using namespace molearn;

namespace {

using Code = std::array<double, 3>;

// Latent codes of six "frames", by index.
const std::vector<Code> kCodes = {
    {{0.0, 1.0, 2.0}}, {{1.5, -0.5, 0.25}}, {{-2.0, 0.0, 1.0}},
    {{0.5, 0.5, 0.5}}, {{3.0, -1.0, 0.0}},  {{-1.0, 2.0, -0.5}},
};

// The toy model: a code decodes to a one-atom structure [3, 1] at its own
// coordinates, and the "energy" of a structure is its squared distance from
// the origin.
torch::Tensor decode(const torch::Tensor& z) { return z.view({-1, 3, 1}); }
torch::Tensor energy(const torch::Tensor& x) { return x.pow(2).sum({1, 2}); }

torch::Tensor codes_of(const torch::Tensor& indices) {
  std::vector<torch::Tensor> rows;
  for (std::int64_t i = 0; i < indices.size(0); ++i) {
    const auto& c = kCodes.at(static_cast<std::size_t>(indices[i].item<std::int64_t>()));
    rows.push_back(torch::tensor({c[0], c[1], c[2]}, torch::kFloat64));
  }
  return torch::stack(rows);
}

torch::Tensor indices(std::vector<std::int64_t> values) { return torch::tensor(values, torch::kInt64); }

// The expected value: for each alpha in 1/4, 1/2, 3/4 the mean over
// consecutive pairs of |(1 - alpha) a + alpha b|^2, then the mean over alphas.
double expected_energy(const std::vector<std::int64_t>& ends) {
  double sum = 0;
  for (double alpha : {0.25, 0.5, 0.75}) {
    double pairs_sum = 0;
    for (std::size_t p = 0; p + 1 < ends.size(); ++p) {
      const auto& a = kCodes[static_cast<std::size_t>(ends[p])];
      const auto& b = kCodes[static_cast<std::size_t>(ends[p + 1])];
      for (int d = 0; d < 3; ++d) {
        const double x = (1 - alpha) * a[d] + alpha * b[d];
        pairs_sum += x * x;
      }
    }
    sum += pairs_sum / static_cast<double>(ends.size() - 1);
  }
  return sum / 3;
}

PhysicsOptions physics_options() {
  PhysicsOptions o;
  o.engine = "torch";
  return o;
}

}  // namespace

TEST(InterpolationPhysics, FixedPointsEnergyAveragesQuarterHalfAndThreeQuarterPointsOfConsecutivePairs) {
  const InterpolationPhysics physics(energy, physics_options());
  EXPECT_NEAR(physics.fixed_points_energy(decode, codes_of(indices({0, 1, 2, 3}))), expected_energy({0, 1, 2, 3}),
              1e-12);
  EXPECT_EQ(physics.fixed_points_energy(decode, codes_of(indices({4}))), 0.0);
}

TEST(InterpolationPhysics, ValidationEnergyRunsBetweenConsecutiveValidationFrames) {
  const InterpolationPhysics physics(energy, physics_options());
  const double e = physics.validation_energy(codes_of, decode, indices({3, 1, 5}), indices({0, 2, 4}), 8);
  EXPECT_NEAR(e, expected_energy({3, 1, 5}), 1e-12);
}

TEST(InterpolationPhysics, ValidationEnergyOfOneValidationFrameLeadsToTheFirstTrainingFrames) {
  const InterpolationPhysics physics(energy, physics_options());
  EXPECT_NEAR(physics.validation_energy(codes_of, decode, indices({5}), indices({2, 0, 4}), 8),
              expected_energy({5, 2, 0}), 1e-12);
  // No validation frame at all: the first three training frames.
  EXPECT_NEAR(physics.validation_energy(codes_of, decode, indices({}), indices({4, 1, 3, 0}), 8),
              expected_energy({4, 1, 3}), 1e-12);
  // Fewer than two frames in all: nothing to interpolate.
  EXPECT_EQ(physics.validation_energy(codes_of, decode, indices({2}), indices({}), 8), 0.0);
}

TEST(InterpolationPhysics, ValidationEnergyEncodesAndDecodesABatchAtATime) {
  const InterpolationPhysics physics(energy, physics_options());
  std::int64_t largest_encode = 0, largest_decode = 0;
  auto encode = [&](const torch::Tensor& i) {
    largest_encode = std::max(largest_encode, i.size(0));
    return codes_of(i);
  };
  auto counted_decode = [&](const torch::Tensor& z) {
    largest_decode = std::max(largest_decode, z.size(0));
    return decode(z);
  };
  const std::vector<std::int64_t> valid = {0, 1, 2, 3, 4, 5};
  const double e = physics.validation_energy(encode, counted_decode, indices(valid), indices({}), 2);
  EXPECT_NEAR(e, expected_energy(valid), 1e-12);
  EXPECT_EQ(largest_encode, 2);
  EXPECT_EQ(largest_decode, 2);
}
