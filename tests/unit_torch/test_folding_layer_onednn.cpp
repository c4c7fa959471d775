// The oneDNN folding layer (models/folding_layer_onednn.hpp) against the same
// layer computed by libtorch, layer by layer: outputs, running statistics,
// batch counts and the gradients of the input and of every parameter, in
// fp32 and under bf16 autocast.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <functional>
#include <map>
#include <string>

#include "molearn/models/folding_layer_onednn.hpp"
#include "molearn/models/foldingnet.hpp"
#include "molearn/train/precision.hpp"

namespace {

using molearn::foldingnet::FoldingLayer;

// Largest |a - b| relative to the largest |b|.
double relative_error(const torch::Tensor& a, const torch::Tensor& b) {
  const auto scale = b.to(torch::kFloat64).abs().max().item<double>();
  return (a.to(torch::kFloat64) - b.to(torch::kFloat64)).abs().max().item<double>() / std::max(scale, 1e-30);
}

// ||a - b|| / ||b||: for bf16, whose rounding makes the largest difference
// a poor summary.
double relative_l2(const torch::Tensor& a, const torch::Tensor& b) {
  const auto a64 = a.to(torch::kFloat64), b64 = b.to(torch::kFloat64);
  return ((a64 - b64).norm() / b64.norm().clamp_min(1e-30)).item<double>();
}

// A convolution's bias followed by a batch norm has a gradient of exactly
// zero in exact arithmetic (the batch norm's input gradient sums to zero
// over each channel), so only its size, not its rounding noise, can be
// compared.
bool feeds_batch_norm(const std::string& name) {
  if (name.starts_with("encoder."))  // every encoder conv but the last is followed by one
    return name.ends_with(".bias") && name.find("bn") == std::string::npos && !name.ends_with("conv5.bias");
  return name.ends_with("conv1.bias") || name.ends_with("conv2.bias");  // folding layers
}

struct Run {
  torch::Tensor out, x_grad;
  torch::ScalarType out_type;
  std::vector<std::pair<std::string, torch::Tensor>> grads;
  std::vector<torch::Tensor> buffers;
};

// One training step's forward and backward of `layer` on x, with a loss that
// weighs every output differently (a plain sum would hide errors that
// cancel over a channel): through the oneDNN chain called directly (the
// layer itself takes it in bf16 only), or through libtorch's layers.
Run run(FoldingLayer layer, const torch::Tensor& x0, bool onednn, bool bf16) {
  layer->train();
  layer->set_onednn(false);
  layer->zero_grad();
  auto x = x0.clone().requires_grad_(true);
  torch::Tensor out;
  {
    const molearn::Bf16Autocast autocast(bf16);
    out = onednn ? molearn::onednn::folding_layer_training(
                       x, {layer->conv1, layer->conv2, layer->conv3, layer->bn1, layer->bn2},
                       bf16 ? torch::kBFloat16 : torch::kFloat32)
                 : layer->forward(x, /*plain=*/false);
  }
  const auto weights = torch::linspace(-1, 2, out.numel()).view(out.sizes());
  (out.to(torch::kFloat32) * weights).sum().backward();
  Run r{out.detach().to(torch::kFloat32), x.grad().clone(), out.scalar_type(), {}, {}};
  for (const auto& p : layer->named_parameters()) r.grads.emplace_back(p.key(), p.value().grad().clone());
  for (const auto& b : layer->buffers()) r.buffers.push_back(b.clone());
  return r;
}

FoldingLayer make_layer(std::int64_t in, std::int64_t hidden, std::int64_t out, std::uint64_t seed) {
  torch::manual_seed(seed);
  FoldingLayer layer(in, hidden, out);
  // Batch norms away from their identity start, so that scale and shift matter.
  torch::NoGradGuard no_grad;
  for (auto* bn : {layer->bn1.get(), layer->bn2.get()}) {
    bn->weight.uniform_(0.5, 1.5);
    bn->bias.uniform_(-0.3, 0.3);
    bn->running_mean.uniform_(-0.1, 0.1);
    bn->running_var.uniform_(0.8, 1.2);
  }
  return layer;
}

// The largest parameter gradient of a run, the scale of its rounding noise.
double largest_gradient(const Run& r) {
  double largest = 0;
  for (const auto& [name, g] : r.grads) largest = std::max(largest, g.abs().max().item<double>());
  return largest;
}

// Every gradient of `got` against `want`: within `tolerance` (relative_error
// or relative_l2), and those that are zero in exact arithmetic below
// `tolerance` of the largest gradient.
template <typename Measure>
void expect_gradients(const Run& got, const Run& want, double tolerance, Measure measure, const std::string& what) {
  EXPECT_LT(measure(got.x_grad, want.x_grad), tolerance) << what << ": input gradient";
  ASSERT_EQ(got.grads.size(), want.grads.size());
  const double noise = tolerance * largest_gradient(want);
  for (std::size_t i = 0; i < got.grads.size(); ++i) {
    const auto& [name, g] = got.grads[i];
    ASSERT_EQ(name, want.grads[i].first);
    if (feeds_batch_norm(name)) {
      EXPECT_LT(g.abs().max().item<double>(), noise) << what << ": " << name;
    } else {
      EXPECT_LT(measure(g, want.grads[i].second), tolerance) << what << ": " << name;
    }
  }
}

void expect_same(const Run& onednn, const Run& libtorch, double tolerance, const std::string& what) {
  EXPECT_LT(relative_error(onednn.out, libtorch.out), tolerance) << what << ": output";
  expect_gradients(onednn, libtorch, tolerance, relative_error, what);
  ASSERT_EQ(onednn.buffers.size(), libtorch.buffers.size());
  for (std::size_t i = 0; i < onednn.buffers.size(); ++i)
    EXPECT_LT(relative_error(onednn.buffers[i], libtorch.buffers[i]), 1e-5) << what << ": buffer " << i;
}

struct Case {
  std::int64_t batch, in, hidden, out, length;
};

class FoldingLayerOnednn : public ::testing::TestWithParam<Case> {};

TEST_P(FoldingLayerOnednn, Fp32MatchesLibtorch) {
  const auto c = GetParam();
  if (!molearn::onednn::folding_layer_supported(c.in, c.hidden, c.out, torch::kFloat32))
    GTEST_SKIP() << "oneDNN has no fp32 implementation here";
  torch::manual_seed(7);
  const auto x = torch::randn({c.batch, c.in, c.length});
  const auto a = run(make_layer(c.in, c.hidden, c.out, 1), x, true, false);
  const auto b = run(make_layer(c.in, c.hidden, c.out, 1), x, false, false);
  expect_same(a, b, 2e-4, "fp32");
}

TEST_P(FoldingLayerOnednn, Bf16MatchesLibtorchBf16) {
  const auto c = GetParam();
  if (!molearn::onednn::folding_layer_supported(c.in, c.hidden, c.out, torch::kBFloat16))
    GTEST_SKIP() << "oneDNN has no bf16 implementation on this CPU";
  torch::manual_seed(7);
  const auto x = torch::randn({c.batch, c.in, c.length});
  const auto a = run(make_layer(c.in, c.hidden, c.out, 1), x, true, true);
  const auto b = run(make_layer(c.in, c.hidden, c.out, 1), x, false, true);
  const auto exact = run(make_layer(c.in, c.hidden, c.out, 1), x, false, false);
  // Both round to bf16 (3 significant digits), at different places: the
  // oneDNN chain must be as close to the fp32 result as libtorch's bf16
  // layers are (they differ from fp32 by 5-10 % in gradients here).
  EXPECT_EQ(a.out_type, torch::kBFloat16);
  EXPECT_EQ(b.out_type, torch::kBFloat16);
  const auto no_worse = [](double onednn, double libtorch) { return onednn < 1.5 * libtorch + 0.01; };
  EXPECT_PRED2(no_worse, relative_l2(a.out, exact.out), relative_l2(b.out, exact.out)) << "output";
  EXPECT_PRED2(no_worse, relative_l2(a.x_grad, exact.x_grad), relative_l2(b.x_grad, exact.x_grad)) << "input grad";
  for (std::size_t i = 0; i < a.grads.size(); ++i) {
    const auto& [name, g] = a.grads[i];
    if (feeds_batch_norm(name)) continue;  // zero but for rounding
    EXPECT_PRED2(no_worse, relative_l2(g, exact.grads[i].second), relative_l2(b.grads[i].second, exact.grads[i].second))
        << name;
  }
  for (std::size_t i = 0; i < a.buffers.size(); ++i) EXPECT_LT(relative_error(a.buffers[i], b.buffers[i]), 0.02) << i;
}

// FoldingNet's shapes in miniature: few input channels (the grid and a
// 2-d code), a wide hidden layer, 3 output channels, lengths that are not
// multiples of oneDNN's blocks.
INSTANTIATE_TEST_SUITE_P(Shapes, FoldingLayerOnednn,
                         ::testing::Values(Case{4, 3, 64, 3, 37}, Case{3, 51, 48, 12, 100}, Case{2, 17, 32, 48, 9},
                                           Case{1, 5, 16, 3, 2}));

molearn::ModelConfig foldingnet_config(std::int64_t atoms) {
  molearn::ModelConfig config;
  config.architecture = "foldingnet";
  config.atoms = atoms;
  config.latent_dim = 2;
  return config;
}

TEST(FoldingLayerOnednnModel, ThreadCountChangesKeepResults) {
  // oneDNN's batch norm must run on the thread count its plan was made for;
  // a plan made for 2 threads and run on 1 once skipped half of its sums.
  const int original = torch::get_num_threads();
  torch::manual_seed(7);
  const auto x = torch::randn({2, 9, 40});
  for (const int threads : {2, 1, 2, 1}) {
    torch::set_num_threads(threads);
    const auto a = run(make_layer(9, 32, 12, 1), x, true, false);
    const auto b = run(make_layer(9, 32, 12, 1), x, false, false);
    expect_same(a, b, 2e-4, "fp32 on " + std::to_string(threads) + " threads");
  }
  torch::set_num_threads(original);
}

TEST(FoldingLayerOnednnModel, Bf16TrainingStepMatchesLibtorch) {
  // A whole FoldingNet under bf16 autocast, where the layers take the chain
  // themselves: its gradients as close to fp32's as those of libtorch's bf16
  // layers, same weights, same batch.
  const auto config = foldingnet_config(150);
  torch::manual_seed(3);
  const auto x = torch::randn({4, 3, 150});
  std::vector<torch::Tensor> outputs, grads;  // (oneDNN bf16, libtorch bf16, libtorch fp32)
  for (const auto& [onednn, bf16] : {std::pair{true, true}, std::pair{false, true}, std::pair{false, false}}) {
    torch::manual_seed(11);
    molearn::FoldingNet model(config);
    EXPECT_EQ(molearn::foldingnet::set_onednn_folding(*model, onednn), 8u);
    model->train();
    torch::Tensor out;
    {
      const molearn::Bf16Autocast autocast(bf16);
      out = model->decode(model->encode(x)).to(torch::kFloat32);
    }
    (out * out).mean().backward();
    outputs.push_back(out.detach());
    std::vector<torch::Tensor> flat;
    for (const auto& p : model->named_parameters())
      if (!feeds_batch_norm(p.key())) flat.push_back(p.value().grad().flatten());
    grads.push_back(torch::cat(flat));
  }
  EXPECT_FALSE(torch::equal(outputs[0], outputs[1])) << "the oneDNN chain did not run";
  EXPECT_LT(relative_l2(outputs[0], outputs[2]), 1.5 * relative_l2(outputs[1], outputs[2]) + 0.01);
  EXPECT_LT(relative_l2(grads[0], grads[2]), 1.5 * relative_l2(grads[1], grads[2]) + 0.01);
}

// A FoldingNet of 300 atoms in evaluation mode, with running statistics
// from three training steps.
molearn::FoldingNet evaluated_model(std::uint64_t seed) {
  torch::manual_seed(seed);
  molearn::FoldingNet model(foldingnet_config(300));
  model->train();
  for (int step = 0; step < 3; ++step) model->forward(torch::randn({4, 3, 300}));
  model->eval();
  return model;
}

// Runs `run` without gradients with the oneDNN chains on and off, in fp32 and
// bf16. The chains must have run, agree with libtorch's layers to rounding
// in fp32, and in bf16 be no further from fp32 than libtorch's bf16.
// Returns libtorch's fp32 result.
torch::Tensor expect_chains_match_libtorch(molearn::FoldingNet& model, const std::function<torch::Tensor()>& run) {
  std::map<std::pair<bool, bool>, torch::Tensor> out;  // (onednn, bf16)
  for (const bool bf16 : {false, true})
    for (const bool onednn : {true, false}) {
      molearn::foldingnet::set_onednn_folding(*model, onednn);
      const molearn::Bf16Autocast autocast(bf16);
      torch::NoGradGuard no_grad;
      out[{onednn, bf16}] = run().to(torch::kFloat32);
    }
  molearn::foldingnet::set_onednn_folding(*model, true);
  const auto exact = out[{false, false}];
  EXPECT_FALSE(torch::equal(out[{true, false}], exact)) << "the oneDNN chain did not run";
  EXPECT_LT(relative_error(out[{true, false}], exact), 1e-5);
  const double onednn_bf16 = relative_l2(out[{true, true}], exact),
               libtorch_bf16 = relative_l2(out[{false, true}], exact);
  EXPECT_GT(onednn_bf16, 0.0);  // bf16 really ran
  EXPECT_LT(onednn_bf16, 1.5 * libtorch_bf16 + 0.01);
  return exact;
}

TEST(FoldingLayerOnednnModel, DecodingMatchesLibtorch) {
  // Evaluation mode without gradients (generate, scan, path, the GUI): the
  // folding layers' chains, batch norms folded, ReLUs as post-ops.
  auto model = evaluated_model(5);
  const auto z = torch::randn({6, 2});
  expect_chains_match_libtorch(model, [&] { return model->decode(z); });
}

TEST(FoldingLayerOnednnModel, EncodingMatchesLibtorch) {
  // The encoder's last graph layer and conv4 as one chain (batch norms
  // folded, the ReLU a post-op). No kNN follows them, so fp32 agrees to
  // rounding.
  auto model = evaluated_model(6);
  const auto x = torch::randn({5, 3, 300});
  const auto exact = expect_chains_match_libtorch(model, [&] { return model->encode(x); });
  // With gradients (evaluation mode, as the trainer's validation energy
  // runs) the encoder keeps libtorch's layers: the very same numbers.
  EXPECT_TRUE(torch::equal(model->encode(x).detach(), exact));
}

}  // namespace
