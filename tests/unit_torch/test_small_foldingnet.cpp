// The small FoldingNet (Python molearn's Small_AutoEncoder): shapes, the
// documented parameter names and Python molearn's parameter count, FoldingNet's
// encoder reused as is, the crop of the decoder's 8 s points, BatchNorm modes,
// the fused kernels against plain libtorch, and a learning test. Its numerics
// against PyTorch are checked by tests/oracle/test_small_foldingnet_pytorch.py.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "molearn/core/error.hpp"
#include "molearn/models/autoencoder.hpp"
#include "molearn/models/foldingnet.hpp"
#include "molearn/models/small_foldingnet.hpp"

namespace {

using molearn::ModelConfig;
using molearn::SmallFoldingNetImpl;

ModelConfig config_for(std::int64_t atoms, std::int64_t latent = 2) {
  ModelConfig c;
  c.architecture = "small-foldingnet";
  c.atoms = atoms;
  c.latent_dim = latent;
  return c;
}

std::shared_ptr<SmallFoldingNetImpl> make_model(std::int64_t atoms, std::int64_t latent = 2, std::uint64_t seed = 0) {
  torch::manual_seed(seed);
  return std::make_shared<SmallFoldingNetImpl>(config_for(atoms, latent));
}

// Protein-like coordinates: a random walk with ~1.5 unit steps, centred.
torch::Tensor random_structures(std::int64_t batch, std::int64_t atoms, std::uint64_t seed) {
  torch::manual_seed(seed);
  auto x = (torch::randn({batch, 3, atoms}) * 0.5).cumsum(2);
  return x - x.mean(2, true);
}

std::int64_t parameter_count(const torch::nn::Module& m) {
  std::int64_t n = 0;
  for (const auto& p : m.parameters()) n += p.numel();
  return n;
}

// Copies the parameters and buffers of `from` whose names start with
// `prefix` to those of the same names in `to`.
void copy_state(const torch::nn::Module& from, torch::nn::Module& to, const std::string& prefix = "") {
  torch::NoGradGuard no_grad;
  auto params = to.named_parameters();
  auto buffers = to.named_buffers();
  for (const auto& p : from.named_parameters())
    if (p.key().rfind(prefix, 0) == 0) params[p.key()].copy_(p.value());
  for (const auto& b : from.named_buffers())
    if (b.key().rfind(prefix, 0) == 0) buffers[b.key()].copy_(b.value());
}

class SmallFoldingNetShapes : public ::testing::TestWithParam<std::int64_t> {};

TEST_P(SmallFoldingNetShapes, EncodeDecodeGiveExactlyNPoints) {
  const std::int64_t atoms = GetParam();
  auto model = make_model(atoms, 3);
  auto x = random_structures(2, atoms, 1);
  for (bool training : {true, false}) {
    model->train(training);
    auto z = model->encode(x);
    EXPECT_EQ(z.sizes(), (std::vector<std::int64_t>{2, 3}));
    auto y = model->decode(z);
    EXPECT_EQ(y.sizes(), (std::vector<std::int64_t>{2, 3, atoms}));
    EXPECT_TRUE(y.is_contiguous());
    EXPECT_EQ(model->forward(x).sizes(), x.sizes());
    EXPECT_TRUE(torch::isfinite(y).all().item<bool>());
  }
}

// 2: the smallest; 10: fewer than the 16 neighbours (k is capped); 7/8/9:
// either side of the decoder's 8-point granularity; 175: a small protein.
INSTANTIATE_TEST_SUITE_P(SmallFoldingNetAtomCounts, SmallFoldingNetShapes, ::testing::Values(2, 7, 8, 9, 10, 175));

TEST(SmallFoldingNet, RejectsUnusableSizes) {
  using molearn::InputError;
  EXPECT_THROW(SmallFoldingNetImpl(config_for(1)), InputError);
  EXPECT_THROW(SmallFoldingNetImpl(config_for(10, 0)), InputError);
  auto bad_knn = config_for(10);
  bad_knn.knn = 0;
  EXPECT_THROW(SmallFoldingNetImpl{bad_knn}, InputError);

  auto model = make_model(20);
  EXPECT_THROW(model->encode(torch::zeros({2, 3, 21})), InputError);
  EXPECT_THROW(model->encode(torch::zeros({2, 4, 20})), InputError);
  EXPECT_THROW(model->encode(torch::zeros({3, 20})), InputError);
  EXPECT_THROW(model->decode(torch::zeros({2, 3})), InputError);
  EXPECT_THROW(model->decode(torch::zeros({2, 2, 1})), InputError);
  try {
    model->encode(torch::zeros({2, 3, 21}));
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("small FoldingNet expects coordinates [B, 3, 20], got [2, 3, 21]"),
              std::string::npos)
        << e.what();
  }
}

TEST(SmallFoldingNet, RegistryBuildsIt) {
  const auto names = molearn::autoencoder_names();
  EXPECT_NE(std::find(names.begin(), names.end(), "small-foldingnet"), names.end());
  auto model = molearn::make_autoencoder(config_for(45));
  EXPECT_NE(std::dynamic_pointer_cast<SmallFoldingNetImpl>(model.ptr()), nullptr);
  EXPECT_EQ(model->config().architecture, "small-foldingnet");
}

// Python molearn: sum(p.numel() for p in Small_AutoEncoder(out_points=N,
// latent_dimension=2).parameters()) is 4,600,712 for every N (175, 2145, ...),
// 679,106 of them in the encoder; FoldingNet's AutoEncoder has 10,438,208.
TEST(SmallFoldingNet, ParameterCountIsPythonMolearns) {
  for (std::int64_t atoms : {175, 2145}) {
    auto model = make_model(atoms);
    EXPECT_EQ(parameter_count(*model), 4600712) << atoms << " atoms";
    EXPECT_EQ(parameter_count(*model->named_children()["encoder"]), 679106);
    torch::manual_seed(0);
    molearn::FoldingNetImpl foldingnet(config_for(atoms));
    EXPECT_EQ(parameter_count(foldingnet), 10438208) << atoms << " atoms";
  }
  // Another latent size changes encoder.conv5 (513 per dimension) and the
  // first folding convolutions (3 x 512 per dimension each).
  EXPECT_EQ(parameter_count(*make_model(175, 5)), 4600712 + 3 * (513 + 2 * 3 * 512));
}

TEST(SmallFoldingNet, ParameterNamesAreAsDocumented) {
  const std::int64_t latent = 4;
  auto model = make_model(175, latent);
  // The encoder's names and shapes are FoldingNet's.
  torch::manual_seed(0);
  molearn::FoldingNetImpl foldingnet(config_for(175, latent));
  std::map<std::string, std::vector<std::int64_t>> expected;
  for (const auto& p : foldingnet.named_parameters())
    if (p.key().rfind("encoder.", 0) == 0) expected[p.key()] = p.value().sizes().vec();
  ASSERT_EQ(expected.size(), 26u);  // 13 modules with weight and bias
  auto conv = [&](const std::string& name, std::int64_t in, std::int64_t out) {
    expected[name + ".weight"] = {out, in, 3};
    expected[name + ".bias"] = {out};
  };
  auto bn = [&](const std::string& name, std::int64_t c) {
    expected[name + ".weight"] = {c};
    expected[name + ".bias"] = {c};
  };
  const std::vector<std::pair<std::int64_t, std::int64_t>> channels = {{latent, 96}, {96, 3}};
  for (int l = 0; l < 2; ++l) {
    const auto [c, out] = channels[l];
    for (int f = 1; f <= 2; ++f) {
      const std::string p = "decoder.layer" + std::to_string(l + 1) + ".fold" + std::to_string(f);
      conv(p + ".conv1", f == 1 ? c + 1 : c + out + 1, 512);
      bn(p + ".bn1", 512);
      conv(p + ".conv2", 512, 512);
      bn(p + ".bn2", 512);
      conv(p + ".conv3", 512, out);
    }
  }
  std::map<std::string, std::vector<std::int64_t>> actual;
  for (const auto& p : model->named_parameters()) actual[p.key()] = p.value().sizes().vec();
  EXPECT_EQ(actual, expected);

  // Buffers: exactly the BatchNorm statistics (no stored grids); 4 + 8 BatchNorms.
  std::set<std::string> buffers;
  for (const auto& b : model->named_buffers()) buffers.insert(b.key());
  std::set<std::string> expected_buffers;
  for (const auto& [name, shape] : expected) {
    const std::string module = name.substr(0, name.rfind('.'));
    const auto last = module.substr(module.rfind('.') + 1);
    if (last.rfind("bn", 0) != 0) continue;
    for (const char* b : {"running_mean", "running_var", "num_batches_tracked"})
      expected_buffers.insert(module + "." + b);
  }
  EXPECT_EQ(expected_buffers.size(), 3u * 14u);
  EXPECT_EQ(buffers, expected_buffers);
}

TEST(SmallFoldingNet, EncoderIsFoldingNets) {
  // Given FoldingNet's encoder weights, encode gives FoldingNet's codes, in
  // training mode (batch statistics) and in evaluation mode.
  const std::int64_t atoms = 60;
  torch::manual_seed(11);
  molearn::FoldingNetImpl foldingnet(config_for(atoms, 3));
  auto model = make_model(atoms, 3, 12);
  auto x = random_structures(3, atoms, 13);
  ASSERT_FALSE(torch::allclose(model->encode(x), foldingnet.encode(x), 1e-3, 1e-3)) << "different weights agree";
  copy_state(foldingnet, *model, "encoder.");
  for (bool training : {true, false}) {
    foldingnet.train(training);
    model->train(training);
    torch::NoGradGuard no_grad;
    EXPECT_TRUE(torch::equal(model->encode(x), foldingnet.encode(x))) << "training " << training;
  }
}

TEST(SmallFoldingNet, DecoderCropsItsEightSPoints) {
  // 170 and 175 atoms both give s = 22 (176 decoded points), so the two
  // models have the same parameters and the 170-atom decoding is the first
  // 170 points of the 175-atom one.
  auto big = make_model(175, 2, 14);
  auto cropped = make_model(170, 2, 15);
  copy_state(*big, *cropped);
  big->eval();
  cropped->eval();
  torch::NoGradGuard no_grad;
  auto z = torch::randn({3, 2});
  const auto full = big->decode(z);
  EXPECT_TRUE(torch::equal(cropped->decode(z), full.narrow(2, 0, 170)));
  // 167 atoms give s = 21: the same parameters, but other grids and repeats,
  // so not a crop of the 175-atom decoding.
  auto fewer = make_model(167, 2, 16);
  copy_state(*big, *fewer);
  fewer->eval();
  EXPECT_FALSE(torch::allclose(fewer->decode(z), full.narrow(2, 0, 167), 1e-4, 1e-4));
}

std::map<std::string, torch::Tensor> buffer_copies(const torch::nn::Module& m) {
  std::map<std::string, torch::Tensor> out;
  for (const auto& b : m.named_buffers()) out[b.key()] = b.value().clone();
  return out;
}

TEST(SmallFoldingNet, EvalModeIsDeterministicAndKeepsRunningStatistics) {
  auto model = make_model(45, 2, 17);
  auto x = random_structures(3, 45, 18);
  {
    // A few training passes so running statistics are not the initial ones.
    torch::NoGradGuard no_grad;
    model->train();
    for (int i = 0; i < 2; ++i) model->forward(x);
  }
  auto before = buffer_copies(*model);
  model->eval();
  torch::Tensor full;
  {
    torch::NoGradGuard no_grad;
    full = model->forward(x);
    EXPECT_TRUE(torch::equal(model->forward(x), full)) << "two evaluations differ";
    // Per-structure results do not depend on the rest of the batch.
    auto single = model->forward(x.narrow(0, 1, 1));
    EXPECT_TRUE(torch::allclose(single, full.narrow(0, 1, 1), 1e-5, 1e-5));
  }
  for (const auto& [name, value] : buffer_copies(*model)) EXPECT_TRUE(value.equal(before.at(name))) << name;

  // Training mode normalises with batch statistics and updates the buffers.
  model->train();
  auto trained = model->forward(x);
  EXPECT_FALSE(torch::allclose(trained, full, 1e-4, 1e-4));
  const auto after = buffer_copies(*model);
  for (const std::string bn : {"encoder.bn1", "decoder.layer1.fold1.bn1", "decoder.layer2.fold2.bn2"}) {
    EXPECT_FALSE(after.at(bn + ".running_var").equal(before.at(bn + ".running_var"))) << bn;
    EXPECT_EQ(after.at(bn + ".num_batches_tracked").item<std::int64_t>(),
              before.at(bn + ".num_batches_tracked").item<std::int64_t>() + 1)
        << bn;
  }
}

// The fused kernels and the plain-libtorch formulation compute the same
// function and gradients (double precision: identical neighbour sets), and
// in training mode every parameter receives a finite gradient.
TEST(SmallFoldingNet, FusedKernelsMatchPlainLibtorchWithGradients) {
  const std::int64_t atoms = 60;
  auto fused = make_model(atoms, 2, 19);
  auto plain = make_model(atoms, 2, 19);
  fused->to(torch::kDouble);
  plain->to(torch::kDouble);
  plain->set_reference_kernels(true);
  auto x0 = random_structures(2, atoms, 20).to(torch::kDouble);
  for (bool training : {true, false}) {
    fused->train(training);
    plain->train(training);
    fused->zero_grad();
    plain->zero_grad();
    auto xa = x0.clone().requires_grad_();
    auto xb = x0.clone().requires_grad_();
    auto ya = fused->forward(xa);
    auto yb = plain->forward(xb);
    ASSERT_TRUE(torch::allclose(ya, yb, 1e-9, 1e-9)) << "training " << training;
    auto target = torch::sin(x0);
    torch::mse_loss(ya, target).backward();
    torch::mse_loss(yb, target).backward();
    EXPECT_TRUE(torch::allclose(xa.grad(), xb.grad(), 1e-7, 1e-9)) << "input gradient, training " << training;
    auto pb = plain->named_parameters();
    for (const auto& p : fused->named_parameters()) {
      const auto& ga = p.value().grad();
      const auto& gb = pb[p.key()].grad();
      ASSERT_TRUE(ga.defined() && gb.defined()) << p.key();
      EXPECT_TRUE(torch::isfinite(ga).all().item<bool>()) << p.key();
      EXPECT_TRUE(torch::allclose(ga, gb, 1e-7, 1e-9)) << p.key() << " training " << training;
    }
  }
}

TEST(SmallFoldingNet, LearnsATinyDataset) {
  // Chignolin-sized structures: within 25 Adam steps the reconstruction
  // error (training mode, i.e. with batch statistics) must fall far below its
  // starting value.
  const std::int64_t atoms = 45;
  auto model = make_model(atoms, 2, 21);
  auto data = random_structures(4, atoms, 22);
  torch::optim::Adam opt(model->parameters(), torch::optim::AdamOptions(1e-3));
  model->train();
  std::vector<double> losses;
  for (int step = 0; step < 25; ++step) {
    opt.zero_grad();
    auto loss = torch::mse_loss(model->forward(data), data);
    loss.backward();
    opt.step();
    losses.push_back(loss.item<double>());
  }
  EXPECT_LT(losses.back(), 0.25 * losses.front()) << "first " << losses.front() << " last " << losses.back();
  EXPECT_LT(losses.back(), 0.5 * data.pow(2).mean().item<double>()) << "no better than predicting zeros";
}

}  // namespace
