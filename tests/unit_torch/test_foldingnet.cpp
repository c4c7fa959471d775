// The FoldingNet autoencoder: shapes for small and odd atom counts, the
// documented parameter names, BatchNorm modes, agreement of the fused kernels
// with the plain-libtorch path, thread independence and a learning test.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <map>
#include <set>
#include <string>
#include <vector>

#include "molearn/core/error.hpp"
#include "molearn/models/autoencoder.hpp"
#include "molearn/models/foldingnet.hpp"

namespace {

using molearn::FoldingNetImpl;
using molearn::ModelConfig;

ModelConfig config_for(std::int64_t atoms, std::int64_t latent = 2) {
  ModelConfig c;
  c.architecture = "foldingnet";
  c.atoms = atoms;
  c.latent_dim = latent;
  return c;
}

std::shared_ptr<FoldingNetImpl> make_model(std::int64_t atoms, std::int64_t latent = 2, std::uint64_t seed = 0) {
  torch::manual_seed(seed);
  return std::make_shared<FoldingNetImpl>(config_for(atoms, latent));
}

// Protein-like coordinates: a random walk with ~1.5 unit steps, centred.
torch::Tensor random_structures(std::int64_t batch, std::int64_t atoms, std::uint64_t seed) {
  torch::manual_seed(seed);
  auto steps = torch::randn({batch, 3, atoms}) * 0.5;
  auto x = steps.cumsum(2);
  return x - x.mean(2, true);
}

class ThreadCountGuard {
 public:
  ThreadCountGuard() : saved_(torch::get_num_threads()) {}
  ~ThreadCountGuard() { torch::set_num_threads(saved_); }
  ThreadCountGuard(const ThreadCountGuard&) = delete;
  ThreadCountGuard& operator=(const ThreadCountGuard&) = delete;

 private:
  int saved_;
};

class FoldingNetShapes : public ::testing::TestWithParam<std::int64_t> {};

TEST_P(FoldingNetShapes, EncodeDecodeGiveExactlyNPoints) {
  const std::int64_t atoms = GetParam();
  auto model = make_model(atoms, 3);
  auto x = random_structures(2, atoms, 1);
  for (bool training : {true, false}) {
    model->train(training);
    auto z = model->encode(x);
    EXPECT_EQ(z.sizes(), (std::vector<std::int64_t>{2, 3}));
    auto y = model->decode(z);
    EXPECT_EQ(y.sizes(), (std::vector<std::int64_t>{2, 3, atoms}));
    EXPECT_EQ(model->forward(x).sizes(), x.sizes());
    EXPECT_TRUE(torch::isfinite(y).all().item<bool>());
  }
}

// 10 atoms: fewer than the 16 neighbours (k is capped); 45: chignolin-sized;
// 128/129: either side of the decoder's 128-point granularity.
INSTANTIATE_TEST_SUITE_P(FoldingNetAtomCounts, FoldingNetShapes, ::testing::Values(10, 45, 128, 129, 300));

TEST(FoldingNet, RejectsUnusableSizes) {
  using molearn::InputError;
  EXPECT_THROW(FoldingNetImpl(config_for(1)), InputError);
  EXPECT_THROW(FoldingNetImpl(config_for(0)), InputError);
  EXPECT_THROW(FoldingNetImpl(config_for(10, 0)), InputError);
  auto bad_knn = config_for(10);
  bad_knn.knn = 0;
  EXPECT_THROW(FoldingNetImpl{bad_knn}, InputError);

  auto model = make_model(20);
  EXPECT_THROW(model->encode(torch::zeros({2, 3, 21})), InputError);
  EXPECT_THROW(model->encode(torch::zeros({2, 4, 20})), InputError);
  EXPECT_THROW(model->encode(torch::zeros({3, 20})), InputError);
  EXPECT_THROW(model->decode(torch::zeros({2, 3})), InputError);
  EXPECT_THROW(model->decode(torch::zeros({2, 2, 1})), InputError);
}

TEST(FoldingNet, TwoAtomsWork) {
  auto model = make_model(2);
  model->eval();
  EXPECT_EQ(model->forward(random_structures(1, 2, 2)).sizes(), (std::vector<std::int64_t>{1, 3, 2}));
}

TEST(FoldingNet, WorksUnderInferenceMode) {
  // Generation and evaluation code may run under c10::InferenceMode, where
  // tensors carry no autograd metadata at all.
  auto model = make_model(45);
  auto x = random_structures(2, 45, 10);
  model->eval();
  torch::Tensor expected;
  {
    torch::NoGradGuard no_grad;
    expected = model->forward(x);
  }
  c10::InferenceMode guard;
  EXPECT_TRUE(torch::allclose(model->forward(x), expected, 1e-6, 1e-6));
}

TEST(FoldingNet, RegistryBuildsIt) {
  auto model = molearn::make_autoencoder(config_for(45));
  EXPECT_NE(std::dynamic_pointer_cast<FoldingNetImpl>(model.ptr()), nullptr);
  EXPECT_EQ(model->config().architecture, "foldingnet");
}

TEST(FoldingNet, ParameterNamesAreAsDocumented) {
  const std::int64_t latent = 4;
  auto model = make_model(300, latent);
  std::map<std::string, std::vector<std::int64_t>> expected;
  auto conv = [&](const std::string& name, std::int64_t in, std::int64_t out, std::int64_t width) {
    expected[name + ".weight"] = {out, in, width};
    expected[name + ".bias"] = {out};
  };
  auto bn = [&](const std::string& name, std::int64_t c) {
    expected[name + ".weight"] = {c};
    expected[name + ".bias"] = {c};
  };
  conv("encoder.conv1", 12, 64, 1);
  bn("encoder.bn1", 64);
  conv("encoder.conv2", 64, 64, 1);
  bn("encoder.bn2", 64);
  conv("encoder.conv3", 64, 64, 1);
  bn("encoder.bn3", 64);
  conv("encoder.graph_layer1.conv", 64, 128, 1);
  bn("encoder.graph_layer1.bn", 128);
  conv("encoder.graph_layer2.conv", 128, 1024, 1);
  bn("encoder.graph_layer2.bn", 1024);
  conv("encoder.conv4", 1024, 512, 1);
  bn("encoder.bn4", 512);
  conv("encoder.conv5", 512, latent, 1);
  const std::vector<std::pair<std::int64_t, std::int64_t>> channels = {{latent, 384}, {384, 48}, {48, 12}, {12, 3}};
  for (int l = 0; l < 4; ++l) {
    const auto [c, out] = channels[l];
    for (int f = 1; f <= 2; ++f) {
      const std::string p = "decoder.layer" + std::to_string(l + 1) + ".fold" + std::to_string(f);
      conv(p + ".conv1", f == 1 ? c + 1 : c + out + 1, 512, 3);
      bn(p + ".bn1", 512);
      conv(p + ".conv2", 512, 512, 3);
      bn(p + ".bn2", 512);
      conv(p + ".conv3", 512, out, 3);
    }
  }
  std::map<std::string, std::vector<std::int64_t>> actual;
  for (const auto& p : model->named_parameters()) actual[p.key()] = p.value().sizes().vec();
  EXPECT_EQ(actual, expected);

  // Buffers: exactly the BatchNorm statistics (no stored grids).
  std::set<std::string> buffers;
  for (const auto& b : model->named_buffers()) buffers.insert(b.key());
  std::set<std::string> expected_buffers;
  for (const auto& [name, shape] : expected) {
    const auto dot = name.rfind('.');
    const std::string module = name.substr(0, dot);
    if (module.find(".bn") == std::string::npos) continue;
    for (const char* b : {"running_mean", "running_var", "num_batches_tracked"})
      expected_buffers.insert(module + "." + b);
  }
  EXPECT_EQ(buffers, expected_buffers);
}

std::map<std::string, torch::Tensor> buffer_copies(const torch::nn::Module& m) {
  std::map<std::string, torch::Tensor> out;
  for (const auto& b : m.named_buffers()) out[b.key()] = b.value().clone();
  return out;
}

TEST(FoldingNet, EvalModeUsesAndKeepsRunningStatistics) {
  auto model = make_model(45);
  auto x = random_structures(3, 45, 3);
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
  EXPECT_FALSE(after.at("encoder.bn1.running_mean").equal(before.at("encoder.bn1.running_mean")));
  const std::string var = "decoder.layer4.fold2.bn2.running_var";
  EXPECT_FALSE(after.at(var).equal(before.at(var)));
  EXPECT_EQ(after.at("encoder.bn1.num_batches_tracked").item<std::int64_t>(),
            before.at("encoder.bn1.num_batches_tracked").item<std::int64_t>() + 1);
}

// The fused kernels and the plain-libtorch formulation compute the same
// function and the same gradients (double precision, so rounding is not an
// issue and the neighbour sets are identical).
TEST(FoldingNet, FusedKernelsMatchPlainLibtorch) {
  const std::int64_t atoms = 60;
  auto fused = make_model(atoms, 2, 4);
  auto plain = make_model(atoms, 2, 4);
  fused->to(torch::kDouble);
  plain->to(torch::kDouble);
  plain->set_reference_kernels(true);
  auto x0 = random_structures(2, atoms, 5).to(torch::kDouble);

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
    auto pa = fused->named_parameters();
    auto pb = plain->named_parameters();
    for (const auto& p : pa) {
      const auto& ga = p.value().grad();
      const auto& gb = pb[p.key()].grad();
      ASSERT_TRUE(ga.defined() && gb.defined()) << p.key();
      EXPECT_TRUE(torch::allclose(ga, gb, 1e-7, 1e-9)) << p.key() << " training " << training;
    }
  }
}

TEST(FoldingNet, MultiThreadEqualsSingleThread) {
  ThreadCountGuard guard;
  // Double precision: in float, rounding differences between the library's
  // single- and multi-threaded convolutions can flip a near-tie in a
  // feature-space kNN, which is legitimate but makes the comparison noisy.
  auto model = make_model(64, 2, 6);
  model->to(torch::kDouble);
  auto x = random_structures(2, 64, 7).to(torch::kDouble);
  auto run = [&] {
    model->zero_grad();
    auto y = model->forward(x);
    torch::mse_loss(y, x).backward();
    std::vector<torch::Tensor> out{y.detach()};
    for (const auto& p : model->parameters()) out.push_back(p.grad().clone());
    return out;
  };
  model->train();
  torch::set_num_threads(1);
  auto one = run();
  torch::set_num_threads(2);
  auto two = run();
  ASSERT_EQ(one.size(), two.size());
  // The fused kernels are bitwise thread-independent; the library
  // convolutions may sum in a different order, hence the tolerance.
  for (std::size_t i = 0; i < one.size(); ++i)
    EXPECT_TRUE(torch::allclose(one[i], two[i], 1e-9, 1e-12))
        << "tensor " << i << " max diff " << (one[i] - two[i]).abs().max().item<double>() << " max "
        << one[i].abs().max().item<double>();
}

TEST(FoldingNet, LearnsATinyDataset) {
  // Chignolin-sized structures: within 25 Adam steps the reconstruction
  // error (training mode, i.e. with batch statistics) must fall far below its
  // starting value.
  const std::int64_t atoms = 45;
  auto model = make_model(atoms, 2, 8);
  auto data = random_structures(4, atoms, 9);
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
