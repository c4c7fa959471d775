#include <gtest/gtest.h>

#include "molearn/models/batch_norm.hpp"
#include "molearn/models/foldingnet.hpp"

using namespace molearn;

namespace {

// Copies affine parameters so both modules start equal and non-trivial.
void randomise(BatchNorm& ours, torch::nn::BatchNorm1d& theirs) {
  torch::NoGradGuard no_grad;
  ours->weight.uniform_(0.5, 1.5);
  ours->bias.uniform_(-0.5, 0.5);
  theirs->weight.copy_(ours->weight);
  theirs->bias.copy_(ours->bias);
}

}  // namespace

TEST(BatchNorm, LocalPathEqualsTorchBatchNorm1d) {
  torch::manual_seed(3);
  BatchNorm ours(6);
  torch::nn::BatchNorm1d theirs(6);
  randomise(ours, theirs);
  for (int step = 0; step < 3; ++step) {
    const auto x = torch::randn({4, 6, 9});
    EXPECT_TRUE(torch::equal(ours->forward(x), theirs->forward(x)));
  }
  EXPECT_TRUE(torch::equal(ours->running_mean, theirs->running_mean));
  EXPECT_TRUE(torch::equal(ours->running_var, theirs->running_var));
  EXPECT_EQ(ours->num_batches_tracked.item<std::int64_t>(), 3);
  ours->eval();
  theirs->eval();
  const auto x = torch::randn({2, 6, 5});
  EXPECT_TRUE(torch::equal(ours->forward(x), theirs->forward(x)));
  EXPECT_EQ(ours->num_batches_tracked.item<std::int64_t>(), 3);  // eval leaves the statistics alone
}

// Under bf16 autocast a convolution hands over bf16 activations: they stay
// bf16 (no cast to fp32 and back before the next convolution), while the
// statistics and the gradients of the weights are fp32 and agree with an
// fp32 batch norm on the same values.
TEST(BatchNorm, Bf16ActivationsStayBf16WithFp32Statistics) {
  torch::manual_seed(4);
  BatchNorm ours(6);
  torch::nn::BatchNorm1d theirs(6);
  randomise(ours, theirs);
  const auto x = (torch::randn({4, 6, 50}) * 3 + 1).to(torch::kBFloat16).requires_grad_();
  const auto x32 = x.detach().to(torch::kFloat32).requires_grad_();
  const auto out = ours->forward(x);
  const auto expected = theirs->forward(x32);
  EXPECT_EQ(out.scalar_type(), torch::kBFloat16);
  EXPECT_LT((out.to(torch::kFloat32) - expected).abs().max().item<double>(), 0.05);  // bf16 has 8 bits
  EXPECT_EQ(ours->running_mean.scalar_type(), torch::kFloat32);
  EXPECT_TRUE(torch::allclose(ours->running_mean, theirs->running_mean, 1e-5, 1e-6));
  EXPECT_TRUE(torch::allclose(ours->running_var, theirs->running_var, 1e-5, 1e-6));
  // A loss whose gradient is not a multiple of the output, so that every
  // term of the input's gradient matters.
  const auto target = torch::randn({4, 6, 50});
  (out.to(torch::kFloat32) - target).pow(2).sum().backward();
  (expected - target).pow(2).sum().backward();
  EXPECT_EQ(x.grad().scalar_type(), torch::kBFloat16);
  const double largest = x32.grad().abs().max().item<double>();
  EXPECT_LT((x.grad().to(torch::kFloat32) - x32.grad()).abs().max().item<double>(), 0.02 * largest)
      << "input gradients differ beyond bf16's rounding";
  EXPECT_EQ(ours->weight.grad().scalar_type(), torch::kFloat32);
  EXPECT_TRUE(torch::allclose(ours->weight.grad(), theirs->weight.grad(), 0.02, 0.5))
      << ours->weight.grad() << theirs->weight.grad();
}

TEST(BatchNorm, SameParameterNamesAsTorch) {
  BatchNorm ours(3);
  torch::nn::BatchNorm1d theirs(3);
  std::vector<std::string> a, b;
  for (const auto& p : ours->named_parameters()) a.push_back(p.key());
  for (const auto& p : theirs->named_parameters()) b.push_back(p.key());
  for (const auto& p : ours->named_buffers()) a.push_back(p.key());
  for (const auto& p : theirs->named_buffers()) b.push_back(p.key());
  EXPECT_EQ(a, b);
}

TEST(BatchNorm, CrossProcessPathMatchesValuesAndGradients) {
  // With a "sum over one process" the cross-process formula must reproduce
  // torch's batch norm: outputs, input gradients and running statistics.
  torch::manual_seed(5);
  BatchNorm ours(4);
  torch::nn::BatchNorm1d theirs(4);
  randomise(ours, theirs);
  const auto x = torch::randn({3, 4, 7}, torch::requires_grad());
  const auto x2 = x.detach().clone().requires_grad_(true);
  const auto weights = torch::randn({3, 4, 7});
  EXPECT_EQ(set_batch_norm_process_group(*ours, [](const torch::Tensor& t) { return t * 1.0; }), 1u);
  const auto y = ours->forward(x);
  const auto y2 = theirs->forward(x2);
  EXPECT_TRUE(torch::allclose(y, y2, 1e-5, 1e-5));
  (y * weights).sum().backward();
  (y2 * weights).sum().backward();
  EXPECT_TRUE(torch::allclose(x.grad(), x2.grad(), 1e-4, 1e-5));
  EXPECT_TRUE(torch::allclose(ours->weight.grad(), theirs->weight.grad(), 1e-4, 1e-5));
  EXPECT_TRUE(torch::allclose(ours->running_var, theirs->running_var, 1e-5, 1e-6));
  EXPECT_TRUE(torch::allclose(ours->running_mean, theirs->running_mean, 1e-5, 1e-6));
}

TEST(BatchNorm, AModelsProcessGroupReachesEveryLayerAndCanBeRemoved) {
  ModelConfig config;
  config.architecture = "foldingnet";
  config.atoms = 30;
  config.latent_dim = 2;
  torch::manual_seed(2);
  FoldingNet model(config);
  model->train();
  const auto x = torch::randn({4, 3, 30});
  int calls = 0;
  const std::size_t layers = set_batch_norm_process_group(*model, [&calls](const torch::Tensor& t) {
    ++calls;
    return t * 1.0;
  });
  model->forward(x);
  EXPECT_GT(layers, 10u);  // the encoder's 6 and the decoder's 16
  EXPECT_EQ(static_cast<std::size_t>(calls), layers) << "every layer sums its statistics over the group once";
  EXPECT_EQ(set_batch_norm_process_group(*model, {}), layers);
  calls = 0;
  model->forward(x);
  EXPECT_EQ(calls, 0) << "without a group no layer calls the old one";
}
