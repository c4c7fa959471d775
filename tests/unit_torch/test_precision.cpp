#include <gtest/gtest.h>

#include <torch/torch.h>
#include <cmath>

#include "molearn/core/error.hpp"
#include "molearn/models/autoencoder.hpp"
#include "molearn/models/foldingnet.hpp"
#include "molearn/models/knn.hpp"
#include "molearn/train/precision.hpp"

using namespace molearn;

namespace {

// One training step on `x`, the model run as `molearn train --precision`
// runs it; returns the loss.
double training_step(Autoencoder& model, torch::optim::Optimizer& optimizer, const torch::Tensor& x, bool bf16) {
  optimizer.zero_grad();
  torch::Tensor out;
  {
    const Bf16Autocast autocast(bf16);
    out = model->forward(x).to(torch::kFloat32);
  }
  const auto loss = torch::mse_loss(out, x);
  loss.backward();
  optimizer.step();
  return loss.item<double>();
}

}  // namespace

TEST(Precision, ResolvesRequestsAndRefusesOthers) {
  EXPECT_EQ(resolve_precision("fp32"), "fp32");
  EXPECT_EQ(resolve_precision("bf16"), "bf16");
  EXPECT_EQ(resolve_precision("auto"), cpu_has_native_bf16() ? "bf16" : "fp32");
  EXPECT_THROW(resolve_precision("fp16"), InputError);
}

TEST(Precision, AutocastScopeTurnsMatrixProductsToBf16AndEnds) {
  const auto a = torch::randn({8, 8});
  {
    const Bf16Autocast on(true);
    EXPECT_EQ(torch::mm(a, a).scalar_type(), torch::kBFloat16);
    {
      const Bf16Autocast nested(true);
      EXPECT_EQ(torch::mm(a, a).scalar_type(), torch::kBFloat16);
    }
    EXPECT_EQ(torch::mm(a, a).scalar_type(), torch::kBFloat16) << "a nested scope must not end the outer one";
    const Bf16Autocast off(false);
    EXPECT_EQ(torch::mm(a, a).scalar_type(), torch::kBFloat16);
  }
  EXPECT_EQ(torch::mm(a, a).scalar_type(), torch::kFloat32);
}

// kNN decides which atoms are neighbours: it must not depend on bf16 rounding.
TEST(Precision, NeighboursAreComputedInTheInputsPrecision) {
  torch::manual_seed(3);
  const auto features = torch::randn({2, 64, 300});  // many channels: the Gram-matrix path
  const auto expected = knn::knn_indices(features, 8);
  const Bf16Autocast on(true);
  EXPECT_TRUE(torch::equal(knn::knn_indices(features, 8), expected));
}

// Under bf16, FoldingNet's batch norms keep bf16 activations, except where a
// kNN reads the output (graph_layer1 feeds graph_layer2's neighbourhoods):
// those stay fp32, so that bf16 rounding does not choose the neighbours.
TEST(Precision, FoldingNetsKnnFeaturesStayFp32UnderBf16) {
  torch::manual_seed(2);
  const auto x = torch::randn({2, 64, 40});
  foldingnet::GraphLayer feeds_knn(64, 128, 8, /*fold_bn=*/false), last(64, 128, 8, /*fold_bn=*/true);
  feeds_knn->train();
  last->train();
  const Bf16Autocast autocast(true);
  EXPECT_EQ(feeds_knn->forward(x, /*plain=*/false).scalar_type(), torch::kFloat32);
  EXPECT_EQ(last->forward(x, /*plain=*/false).scalar_type(), torch::kBFloat16);
}

// One bf16 training step of FoldingNet: weights, gradients, optimiser state
// and batch-norm statistics stay fp32; what leaves the model is cast to fp32.
TEST(Precision, Bf16TrainingKeepsFp32WeightsAndStatistics) {
  torch::manual_seed(0);
  ModelConfig config;
  config.architecture = "foldingnet";
  config.atoms = 200;
  auto model = make_autoencoder(config);
  const auto x = torch::randn({4, 3, 200});
  model->train();
  torch::Tensor fp32_out;
  {
    torch::NoGradGuard no_grad;
    fp32_out = model->forward(x);
  }
  torch::optim::AdamW optimizer(model->parameters(), torch::optim::AdamWOptions(1e-3));
  torch::Tensor out;
  {
    const Bf16Autocast autocast(true);
    torch::NoGradGuard no_grad;
    out = model->forward(x).to(torch::kFloat32);
  }
  ASSERT_TRUE(std::isfinite(training_step(model, optimizer, x, /*bf16=*/true)));
  // The convolutions really ran in bf16. (How far apart the outputs are says
  // little: an untrained FoldingNet in training mode amplifies rounding, and
  // PyTorch's own autocast differs from fp32 as much on the same model.)
  EXPECT_FALSE(torch::equal(out, fp32_out));
  for (const auto& p : model->named_parameters()) {
    EXPECT_EQ(p.value().scalar_type(), torch::kFloat32) << p.key();
    ASSERT_TRUE(p.value().grad().defined()) << p.key();
    EXPECT_EQ(p.value().grad().scalar_type(), torch::kFloat32) << p.key();
  }
  for (const auto& b : model->named_buffers()) {
    if (b.value().is_floating_point()) {
      EXPECT_EQ(b.value().scalar_type(), torch::kFloat32) << b.key();
    }
  }
}

// bf16 learns as fp32 does: the same steps on the same batch lower the loss
// about as much.
TEST(Precision, Bf16LearnsAsFp32Does) {
  const auto chain = [] {
    torch::manual_seed(5);
    auto x = torch::cumsum(torch::randn({8, 3, 64}) * 0.3, 2);
    return (x - x.mean()) / x.std();
  }();
  const auto final_loss = [&](bool bf16) {
    torch::manual_seed(1);
    ModelConfig config;
    config.architecture = "conv1d";
    config.atoms = 64;
    auto model = make_autoencoder(config);
    model->train();
    torch::optim::AdamW optimizer(model->parameters(), torch::optim::AdamWOptions(1e-3));
    double first = 0, last = 0;
    for (int step = 0; step < 40; ++step) (step == 0 ? first : last) = training_step(model, optimizer, chain, bf16);
    return std::make_pair(first, last);
  };
  const auto [first32, last32] = final_loss(false);
  const auto [first16, last16] = final_loss(true);
  EXPECT_LT(last32, 0.5 * first32);
  EXPECT_LT(last16, 0.5 * first16);
  EXPECT_LT(last16, 1.5 * last32 + 0.01) << "fp32 " << first32 << " -> " << last32 << ", bf16 " << first16 << " -> "
                                         << last16;
}
