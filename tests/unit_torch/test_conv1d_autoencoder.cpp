// Unit tests of the 1D-convolutional autoencoder: shapes over protein sizes,
// parameter bookkeeping of the options, eval-mode determinism, batch
// independence and a short training run that must actually learn.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <iostream>
#include <map>
#include <numbers>
#include <string>
#include <vector>

#include "molearn/core/error.hpp"
#include "molearn/models/conv1d_autoencoder.hpp"

namespace molearn {
namespace {

ModelConfig conv_config(std::int64_t atoms, std::int64_t latent = 2) {
  ModelConfig c;
  c.architecture = "conv1d";
  c.atoms = atoms;
  c.latent_dim = latent;
  return c;
}

std::int64_t parameter_count(torch::nn::Module& m) {
  std::int64_t n = 0;
  for (const auto& p : m.parameters()) n += p.numel();
  return n;
}

// The count the layout documented in conv1d_autoencoder.hpp implies, worked
// out independently of the implementation.
std::int64_t expected_parameters(const ModelConfig& c) {
  std::vector<std::int64_t> ch;
  for (std::int64_t i = 0; i < c.depth; ++i)
    ch.push_back(std::llround(double(c.init_channels) * std::pow(c.channel_growth, double(i))));
  const std::int64_t scale = std::int64_t{1} << c.depth;
  const std::int64_t r = std::max<std::int64_t>(2, (c.atoms + scale - 1) / scale);
  const std::int64_t p = std::min<std::int64_t>(r, 4);
  auto residual = [&](std::int64_t f) { return c.residual_blocks * (f * f * 3 + 2 * f); };

  std::int64_t n = 0;
  for (std::int64_t i = 0; i < c.depth; ++i) {
    const std::int64_t in = i == 0 ? 3 : ch[i - 1];
    n += in * ch[i] * 4 + 2 * ch[i] + residual(ch[i]);  // conv + BN + residuals
  }
  n += ch.back() * p * c.latent_dim + c.latent_dim;   // enc_fc
  n += c.latent_dim * ch.back() * r + ch.back() * r;  // dec_fc
  for (std::int64_t i = c.depth - 1; i >= 0; --i) {
    const std::int64_t out = i == 0 ? ch[0] : ch[i - 1];
    n += ch[i] * out * 4 + 2 * out + residual(out);  // transposed conv + BN + residuals
  }
  n += ch[0] * 3 * 3 + 3;  // head
  return n;
}

std::map<std::string, torch::Tensor> clone_buffers(torch::nn::Module& m) {
  std::map<std::string, torch::Tensor> out;
  for (const auto& item : m.named_buffers()) out[item.key()] = item.value().clone();
  return out;
}

// `count` smooth 3D curves of `atoms` points: a few low-frequency sines per
// coordinate with random amplitudes and phases, roughly unit scale like the
// scaled coordinates molearn trains on.
torch::Tensor smooth_curves(std::int64_t count, std::int64_t atoms) {
  auto t = torch::linspace(0.0, 1.0, atoms).view({1, 1, atoms});
  auto x = torch::zeros({count, 3, atoms});
  for (int k = 1; k <= 3; ++k) {
    auto amplitude = torch::randn({count, 3, 1}) / k;
    auto phase = torch::rand({count, 3, 1}) * 2 * std::numbers::pi;
    x += amplitude * torch::sin(2 * std::numbers::pi * k * t + phase);
  }
  return x;
}

TEST(Conv1dAutoencoderShapes, EncodeAndDecodeKeepTheAtomCount) {
  torch::manual_seed(0);
  for (std::int64_t atoms : {10, 33, 64, 437, 2145}) {
    for (std::int64_t latent : {2, 3}) {
      SCOPED_TRACE("atoms=" + std::to_string(atoms) + " latent=" + std::to_string(latent));
      Conv1dAutoencoderImpl model(conv_config(atoms, latent));
      auto x = torch::randn({2, 3, atoms});
      auto z = model.encode(x);
      EXPECT_EQ(z.sizes(), (std::vector<std::int64_t>{2, latent}));
      auto y = model.decode(z);
      EXPECT_EQ(y.sizes(), (std::vector<std::int64_t>{2, 3, atoms}));
      EXPECT_TRUE(y.is_contiguous());
      EXPECT_TRUE(torch::isfinite(y).all().item<bool>());
      EXPECT_EQ(model.forward(x).sizes(), x.sizes());
    }
  }
}

TEST(Conv1dAutoencoderShapes, LargeProteinInEvalMode) {
  torch::manual_seed(0);
  Conv1dAutoencoderImpl model(conv_config(10000));
  model.eval();
  torch::NoGradGuard no_grad;
  EXPECT_EQ(model.forward(torch::randn({1, 3, 10000})).sizes(), (std::vector<std::int64_t>{1, 3, 10000}));
}

// The deepest level keeps at least two positions, so BatchNorm can train on a
// batch of one even for the smallest proteins.
TEST(Conv1dAutoencoderShapes, TrainsOnABatchOfOneSmallStructure) {
  torch::manual_seed(0);
  for (std::int64_t atoms : {2, 10, 16, 17}) {
    SCOPED_TRACE("atoms=" + std::to_string(atoms));
    Conv1dAutoencoderImpl model(conv_config(atoms));
    model.train();
    auto x = torch::randn({1, 3, atoms});
    auto loss = torch::mse_loss(model.forward(x), x);
    loss.backward();
    EXPECT_TRUE(std::isfinite(loss.item<double>()));
  }
}

TEST(Conv1dAutoencoderShapes, RejectsUnusableSizes) {
  EXPECT_THROW(Conv1dAutoencoderImpl(conv_config(1)), InputError);
  EXPECT_THROW(Conv1dAutoencoderImpl(conv_config(0)), InputError);
  EXPECT_THROW(Conv1dAutoencoderImpl(conv_config(50, 0)), InputError);
  auto bad = conv_config(50);
  bad.depth = 0;
  EXPECT_THROW(Conv1dAutoencoderImpl{bad}, InputError);
  bad = conv_config(50);
  bad.init_channels = 0;
  EXPECT_THROW(Conv1dAutoencoderImpl{bad}, InputError);
  bad = conv_config(50);
  bad.channel_growth = 0.1;  // 32 * 0.1^2 rounds to 0 channels
  EXPECT_THROW(Conv1dAutoencoderImpl{bad}, InputError);
  bad = conv_config(50);
  bad.dropout = 1.0;
  EXPECT_THROW(Conv1dAutoencoderImpl{bad}, InputError);
  bad = conv_config(50);
  bad.residual_blocks = -1;
  EXPECT_THROW(Conv1dAutoencoderImpl{bad}, InputError);
}

TEST(Conv1dAutoencoderShapes, RejectsMismatchedTensors) {
  Conv1dAutoencoderImpl model(conv_config(20, 2));
  EXPECT_THROW(model.encode(torch::zeros({2, 3, 21})), InputError);
  EXPECT_THROW(model.encode(torch::zeros({2, 20, 3})), InputError);
  EXPECT_THROW(model.encode(torch::zeros({3, 20})), InputError);
  EXPECT_THROW(model.decode(torch::zeros({2, 3})), InputError);
  EXPECT_THROW(model.decode(torch::zeros({2})), InputError);
}

TEST(Conv1dAutoencoderParameters, DefaultLayoutForAProteinOf2145Atoms) {
  Conv1dAutoencoderImpl model(conv_config(2145));
  // Worked out by hand: channels 32, 48, 72, 108; R = 135, P = 4.
  //   encoder convs+BN 448 + 6240 + 13968 + 31320, enc_fc 866
  //   dec_fc 43740, decoder convs+BN 31248 + 13920 + 6208 + 4160, head 291
  EXPECT_EQ(parameter_count(model), 152409);
  EXPECT_EQ(parameter_count(model), expected_parameters(model.config()));

  // The names documented in the header (checkpoints depend on them).
  auto params = model.named_parameters();
  for (const char* name :
       {"down0.conv.weight", "down0.bn.weight", "down0.bn.bias", "down3.conv.weight", "enc_fc.weight", "enc_fc.bias",
        "dec_fc.weight", "dec_fc.bias", "up0.conv.weight", "up3.bn.bias", "head.weight", "head.bias"})
    EXPECT_NE(params.find(name), nullptr) << name;
  EXPECT_EQ(params.find("down0.conv.bias"), nullptr);  // BN supplies the shift
  EXPECT_EQ(params["down0.conv.weight"].sizes(), (std::vector<std::int64_t>{32, 3, 4}));
  EXPECT_EQ(params["enc_fc.weight"].sizes(), (std::vector<std::int64_t>{2, 108 * 4}));
  EXPECT_EQ(params["dec_fc.weight"].sizes(), (std::vector<std::int64_t>{108 * 135, 2}));
  EXPECT_EQ(params["up0.conv.weight"].sizes(), (std::vector<std::int64_t>{108, 72, 4}));
  EXPECT_EQ(params["up3.conv.weight"].sizes(), (std::vector<std::int64_t>{32, 32, 4}));
  EXPECT_EQ(params["head.weight"].sizes(), (std::vector<std::int64_t>{3, 32, 3}));
  auto buffers = model.named_buffers();
  EXPECT_NE(buffers.find("down2.bn.running_mean"), nullptr);
  EXPECT_NE(buffers.find("up1.bn.running_var"), nullptr);
}

TEST(Conv1dAutoencoderParameters, OptionsChangeTheCountAsDocumented) {
  const auto base_config = conv_config(437, 3);
  const std::int64_t base = parameter_count(*std::make_shared<Conv1dAutoencoderImpl>(base_config));
  EXPECT_EQ(base, expected_parameters(base_config));

  auto count = [](const ModelConfig& c) {
    Conv1dAutoencoderImpl model(c);
    EXPECT_EQ(parameter_count(model), expected_parameters(c));
    return parameter_count(model);
  };

  auto deeper = base_config;
  deeper.depth = 5;
  auto shallower = base_config;
  shallower.depth = 2;
  EXPECT_GT(count(deeper), base);
  EXPECT_LT(count(shallower), base);

  auto wider = base_config;
  wider.channel_growth = 2.0;
  EXPECT_GT(count(wider), base);
  auto flat = base_config;
  flat.channel_growth = 1.0;
  EXPECT_LT(count(flat), base);

  // Each residual block adds a 3-tap conv and a BN on every level of the
  // encoder and of the decoder.
  auto residual = base_config;
  residual.residual_blocks = 2;
  const std::int64_t per_block_enc =
      (32 * 32 * 3 + 64) + (48 * 48 * 3 + 96) + (72 * 72 * 3 + 144) + (108 * 108 * 3 + 216);
  const std::int64_t per_block_dec = (72 * 72 * 3 + 144) + (48 * 48 * 3 + 96) + 2 * (32 * 32 * 3 + 64);
  EXPECT_EQ(count(residual), base + 2 * (per_block_enc + per_block_dec));

  // Dropout has no parameters, and is registered only when enabled.
  auto dropout = base_config;
  dropout.dropout = 0.2;
  EXPECT_EQ(count(dropout), base);
  // (named_modules() must not include the root: that needs a shared_ptr.)
  Conv1dAutoencoderImpl with_dropout(dropout);
  EXPECT_NE(with_dropout.named_modules("", false).find("down0.drop"), nullptr);
  EXPECT_NE(with_dropout.named_modules("", false).find("up3.drop"), nullptr);
  Conv1dAutoencoderImpl without_dropout(base_config);
  EXPECT_EQ(without_dropout.named_modules("", false).find("down0.drop"), nullptr);

  // The protein size only enters through R (the decoder's linear layer) and,
  // for small proteins, P.
  auto bigger = base_config;
  bigger.atoms = 437 + 16;  // one more position after 4 halvings
  EXPECT_EQ(count(bigger) - base, (3 + 1) * 108);
}

TEST(Conv1dAutoencoderModes, EvalIsDeterministicAndLeavesBatchNormStatsAlone) {
  torch::manual_seed(1);
  auto config = conv_config(64, 2);
  config.dropout = 0.3;
  config.residual_blocks = 1;
  Conv1dAutoencoderImpl model(config);
  auto x = torch::randn({4, 3, 64});

  // Training mode: dropout makes two passes differ, and BN statistics move.
  model.train();
  auto before_train = clone_buffers(model);
  {
    torch::NoGradGuard no_grad;
    auto a = model.forward(x);
    auto b = model.forward(x);
    EXPECT_FALSE(torch::allclose(a, b));
  }
  EXPECT_FALSE(torch::equal(before_train.at("down0.bn.running_mean"), model.named_buffers()["down0.bn.running_mean"]));

  model.eval();
  auto before = clone_buffers(model);
  torch::NoGradGuard no_grad;
  auto a = model.forward(x);
  auto b = model.forward(x);
  EXPECT_TRUE(torch::equal(a, b));
  auto after = model.named_buffers();
  ASSERT_EQ(after.size(), before.size());
  for (const auto& item : after) EXPECT_TRUE(torch::equal(item.value(), before.at(item.key()))) << item.key();
}

TEST(Conv1dAutoencoderModes, BatchEqualsItemByItemInEval) {
  torch::manual_seed(2);
  auto config = conv_config(33, 3);
  config.residual_blocks = 1;
  Conv1dAutoencoderImpl model(config);
  // A few training passes so the BN running statistics are not the trivial
  // (0, 1) they start at.
  model.train();
  {
    torch::NoGradGuard no_grad;
    for (int i = 0; i < 3; ++i) model.forward(torch::randn({5, 3, 33}));
  }
  model.eval();
  torch::NoGradGuard no_grad;
  auto x = torch::randn({5, 3, 33});
  auto z = model.encode(x);
  auto y = model.decode(z);
  for (std::int64_t i = 0; i < x.size(0); ++i) {
    auto zi = model.encode(x.slice(0, i, i + 1));
    EXPECT_TRUE(torch::allclose(zi, z.slice(0, i, i + 1), 1e-5, 1e-6)) << "item " << i;
    auto yi = model.decode(z.slice(0, i, i + 1));
    EXPECT_TRUE(torch::allclose(yi, y.slice(0, i, i + 1), 1e-5, 1e-6)) << "item " << i;
  }
}

TEST(Conv1dAutoencoderTraining, AdamReducesTheReconstructionError) {
  torch::manual_seed(3);
  const std::int64_t atoms = 40;
  auto data = smooth_curves(8, atoms);
  auto config = conv_config(atoms, 2);
  config.depth = 3;
  config.init_channels = 16;
  Conv1dAutoencoderImpl model(config);
  torch::optim::Adam optimizer(model.parameters(), torch::optim::AdamOptions(5e-3));

  auto eval_mse = [&] {
    model.eval();
    torch::NoGradGuard no_grad;
    double mse = torch::mse_loss(model.forward(data), data).item<double>();
    model.train();
    return mse;
  };

  const double initial = eval_mse();
  double first_train = 0.0, last_train = 0.0;
  model.train();
  // Over seeds 0..7 this reaches below 0.04x (training) and 0.08x (eval) of
  // the initial error, so the thresholds leave a twofold margin.
  for (int step = 0; step < 90; ++step) {
    optimizer.zero_grad();
    auto loss = torch::mse_loss(model.forward(data), data);
    loss.backward();
    optimizer.step();
    if (step == 0) first_train = loss.item<double>();
    last_train = loss.item<double>();
  }
  const double final_mse = eval_mse();
  std::cout << "[conv1d learning] eval MSE " << initial << " -> " << final_mse << ", train MSE " << first_train
            << " -> " << last_train << "\n";
  EXPECT_LT(last_train, 0.1 * first_train);
  EXPECT_LT(final_mse, 0.15 * initial);
}

}  // namespace
}  // namespace molearn
