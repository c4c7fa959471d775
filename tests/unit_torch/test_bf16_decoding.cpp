// Decoding under bf16 autocast (generate, scan, path and the GUI with
// --precision bf16, or auto on CPUs with AVX512-BF16) writes coordinates
// that are not rounded to bf16: a bf16 output puts decoded atoms on a grid of
// ~0.4 % of their coordinates, and on a 2MI7 model 131 pairs of atoms of one
// structure fell on the same point (models/coordinates_layer.hpp).
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <string>

#include "molearn/models/autoencoder.hpp"
#include "molearn/train/precision.hpp"

namespace {

// The fraction of x's values that bf16 holds exactly: 2^-16 or so for values
// computed in fp32, all of them for values rounded to bf16.
double fraction_on_bf16_grid(const torch::Tensor& x) {
  return x.eq(x.to(torch::kBFloat16).to(torch::kFloat32)).to(torch::kDouble).mean().item<double>();
}

class Bf16Decoding : public ::testing::TestWithParam<std::string> {};

TEST_P(Bf16Decoding, CoordinatesAreNotRoundedToBf16) {
  molearn::ModelConfig config;
  config.architecture = GetParam();
  config.atoms = 150;
  config.latent_dim = 2;
  torch::manual_seed(11);
  auto model = molearn::make_autoencoder(config);
  model->train();
  for (int step = 0; step < 2; ++step) model->forward(torch::randn({4, 3, 150}));  // running statistics
  model->eval();
  torch::NoGradGuard no_grad;
  const auto z = torch::randn({3, 2});
  torch::Tensor fp32, bf16;
  fp32 = model->decode(z);
  {
    const molearn::Bf16Autocast autocast(true);
    bf16 = model->decode(z);
  }
  ASSERT_EQ(bf16.scalar_type(), torch::kFloat32);
  EXPECT_FALSE(torch::equal(bf16, fp32)) << "bf16 did not run";
  EXPECT_LT(fraction_on_bf16_grid(bf16), 0.01);
  EXPECT_LT(fraction_on_bf16_grid(fp32), 0.01);  // the measure itself
}

INSTANTIATE_TEST_SUITE_P(Models, Bf16Decoding,
                         ::testing::Values("foldingnet", "small-foldingnet", "conv1d", "siren", "cnn2d-dm"),
                         [](const auto& info) {
                           std::string name = info.param;
                           for (char& c : name)
                             if (c == '-') c = '_';
                           return name;
                         });

}  // namespace
