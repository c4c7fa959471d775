// Drift and error landscapes, and encoding of datasets and path endpoints,
// on a linear autoencoder whose results are worked out by hand.
#include <gtest/gtest.h>

#include <cmath>

#include "molearn/analysis/latent_path_torch.hpp"
#include "molearn/analysis/latent_scan_torch.hpp"
#include "molearn/core/error.hpp"

using namespace molearn;

namespace {

// Two atoms, latent (a, b). Channels-first [B, 3, 2]:
//   decode(a, b): atom 0 at (a, 0, 0), atom 1 at (0, b, 0)   (scaled units)
//   encode(x):    (2 * x of atom 0, y of atom 1)
// so encode(decode(a, b)) = (2a, b): drift = |a|; decode of that puts atom 0
// at (2a, 0, 0), RMSD to decode(a, b) = sqrt(a^2 / 2) scaled units.
class LinearAutoencoderImpl : public AutoencoderImpl {
 public:
  LinearAutoencoderImpl() {
    config_.architecture = "linear-test";
    config_.atoms = 2;
    config_.latent_dim = 2;
  }
  torch::Tensor encode(torch::Tensor x) override {
    // x[:, 0, 0] is x of atom 0, x[:, 1, 1] is y of atom 1.
    return torch::stack({2 * x.select(1, 0).select(1, 0), x.select(1, 1).select(1, 1)}, 1);
  }
  torch::Tensor decode(torch::Tensor z) override {
    auto x = torch::zeros({z.size(0), 3, 2});
    x.select(1, 0).select(1, 0).copy_(z.select(1, 0));
    x.select(1, 1).select(1, 1).copy_(z.select(1, 1));
    return x;
  }
  const ModelConfig& config() const override { return config_; }

 private:
  ModelConfig config_;
};

Topology two_atoms() {
  std::vector<Atom> atoms;
  for (int i = 0; i < 2; ++i) {
    Atom a;
    a.name = std::string("CA");
    a.res_name = std::string("ALA");
    a.res_seq = i + 1;
    a.chain = std::string("A");
    a.element = std::string("C");
    atoms.push_back(a);
  }
  return Topology(atoms);
}

CheckpointState linear_state() {
  CheckpointState s;
  s.model.atoms = 2;
  s.model.latent_dim = 2;
  s.mean = 0.5;
  s.std = 3.0;
  s.topology = two_atoms();
  s.termini.resize(2);
  return s;
}

std::vector<StructureMetric> error_and_drift() {
  return structure_metrics({"error", "drift"}, conformers_of(linear_state()), {});
}

}  // namespace

TEST(LatentScan, DriftAndErrorOfALinearAutoencoder) {
  LinearAutoencoderImpl model;
  const CheckpointState state = linear_state();
  LatentEvaluationOptions options;
  options.landscapes = error_and_drift();
  options.batch_size = 2;  // three points: a full batch and a partial one
  std::vector<Conformers> batches;
  options.on_structures = [&](const Conformers& c) { batches.push_back(c); };
  const auto result = evaluate_latent_points(model, state, {{1, 5}, {-2, 0}, {0, 7}}, options);
  ASSERT_EQ(result.landscapes.size(), 2u);
  const auto& error = result.landscapes[0];
  const auto& drift = result.landscapes[1];
  EXPECT_EQ(error.name, "error");
  EXPECT_EQ(error.unit, "A");
  EXPECT_EQ(drift.name, "drift");
  const double std = 3.0;
  const std::vector<double> expected_drift{1, 2, 0};
  const std::vector<double> expected_error{std * 1 / std::sqrt(2.0), std * 2 / std::sqrt(2.0), 0};
  ASSERT_EQ(drift.values.size(), 3u);
  ASSERT_EQ(error.values.size(), 3u);
  for (std::size_t p = 0; p < 3; ++p) {
    EXPECT_NEAR(drift.values[p], expected_drift[p], 1e-6) << p;
    EXPECT_NEAR(error.values[p], expected_error[p], 1e-5) << p;
  }
  EXPECT_EQ(result.points_done, 3u);
  EXPECT_FALSE(result.interrupted);
  // Decoded structures in Å: x * std + mean, [frame][atom][xyz].
  ASSERT_EQ(batches.size(), 2u);
  EXPECT_EQ(batches[0].frame_count, 2u);
  EXPECT_EQ(batches[1].frame_count, 1u);
  const std::vector<float> first{3.5f, 0.5f, 0.5f, 0.5f, 15.5f, 0.5f};
  const auto f0 = batches[0].frame(0);
  for (std::size_t k = 0; k < 6; ++k) EXPECT_FLOAT_EQ(f0[k], first[k]) << k;
}

TEST(LatentScan, StopsBetweenBatchesWhenAsked) {
  LinearAutoencoderImpl model;
  LatentEvaluationOptions options;
  options.landscapes = error_and_drift();
  options.batch_size = 1;
  options.stop_requested = [] { return true; };
  const auto result = evaluate_latent_points(model, linear_state(), {{1, 1}, {2, 2}, {3, 3}}, options);
  EXPECT_TRUE(result.interrupted);
  EXPECT_EQ(result.points_done, 1u);
  EXPECT_EQ(result.landscapes[1].values.size(), 1u);
}

TEST(LatentScan, RejectsBadRequests) {
  LinearAutoencoderImpl model;
  LatentEvaluationOptions options;
  options.landscapes = error_and_drift();
  EXPECT_THROW(evaluate_latent_points(model, linear_state(), {{1, 2, 3}}, options), InputError);
  options.batch_size = 0;
  EXPECT_THROW(evaluate_latent_points(model, linear_state(), {{1, 2}}, options), InputError);
  EXPECT_THROW(structure_metric("bogus", conformers_of(linear_state()), {}), InputError);
  EXPECT_THROW(structure_metrics({"drift", "drift"}, conformers_of(linear_state()), {}), InputError);
}

TEST(LatentPath, EncodesDatasetFramesAndChecksTopology) {
  LinearAutoencoderImpl model;
  const CheckpointState state = linear_state();
  Dataset d;
  d.topology = two_atoms();
  d.termini.resize(2);
  d.frame_count = 2;
  d.mean = state.mean;
  d.std = state.std;
  // Scaled frames: atom 0 x = 0.25 / -1, atom 1 y = 4 / 0.5.
  d.coords = {0.25f, 0, 0, 0, 4, 0, -1, 0, 0, 0, 0.5f, 0};
  const auto z = encode_dataset(model, state, d);
  ASSERT_EQ(z.size(), 2u);
  EXPECT_NEAR(z[0][0], 0.5, 1e-6);
  EXPECT_NEAR(z[0][1], 4.0, 1e-6);
  EXPECT_NEAR(z[1][0], -2.0, 1e-6);
  const auto end = encode_endpoint(model, state, d, "d.mlds", parse_endpoint("1"));
  EXPECT_NEAR(end[1], 0.5, 1e-6);
  EXPECT_THROW(encode_endpoint(model, state, d, "d.mlds", parse_endpoint("2")), InputError);
  EXPECT_THROW(encode_endpoint(model, state, d, "d.mlds", parse_endpoint("missing.pdb")), InputError);
  // The same frames scaled differently encode the same: rescaled to the
  // checkpoint's statistics (Å = x * std + mean).
  Dataset rescaled = d;
  rescaled.mean = 0;
  rescaled.std = 1;
  for (float& v : rescaled.coords) v = static_cast<float>(v * state.std + state.mean);
  const auto z2 = encode_dataset(model, state, rescaled);
  EXPECT_NEAR(z2[1][0], -2.0, 1e-5);
  EXPECT_NEAR(z2[1][1], 0.5, 1e-5);
  EXPECT_NO_THROW(check_dataset_matches(d, "d.mlds", state));
  Dataset other = d;
  other.topology.atoms()[1].name = std::string("CB");
  EXPECT_THROW(check_dataset_matches(other, "other.mlds", state), InputError);
}
