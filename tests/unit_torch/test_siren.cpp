// Python molearn's SIREN (a gradient origin network): shapes, the atom
// encoding, the encoding as a gradient step checked by finite differences,
// second-order training through that step, and a learning test.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <string>
#include <vector>

#include "molearn/core/error.hpp"
#include "molearn/models/autoencoder.hpp"
#include "molearn/models/siren.hpp"

namespace {

using molearn::ModelConfig;
using molearn::SirenImpl;

ModelConfig config_for(std::int64_t atoms, std::int64_t latent = 2, std::vector<std::string> names = {}) {
  ModelConfig c;
  c.architecture = "siren";
  c.atoms = atoms;
  c.latent_dim = latent;
  c.siren_hidden = 64;  // small: these tests check behaviour, not capacity
  c.atom_names = std::move(names);
  return c;
}

// A chain with ~0.4 unit steps, centred: scaled coordinates of a small protein.
torch::Tensor random_structures(std::int64_t batch, std::int64_t atoms, std::uint64_t seed) {
  torch::manual_seed(seed);
  auto x = (0.4 * torch::randn({batch, 3, atoms})).cumsum(2);
  return x - x.mean(2, true);
}

double inner_loss(SirenImpl& model, const torch::Tensor& z, const torch::Tensor& x) {
  return (model.decode(z) - x).pow(2).sum(1).mean().item<double>();  // one structure: mean over its atoms
}

}  // namespace

TEST(Siren, ShapesAndRegistry) {
  auto model = molearn::make_autoencoder(config_for(20, 3));
  const auto x = random_structures(4, 20, 1);
  const auto z = model->encode(x);
  EXPECT_EQ(z.sizes(), (std::vector<std::int64_t>{4, 3}));
  EXPECT_EQ(model->decode(z).sizes(), (std::vector<std::int64_t>{4, 3, 20}));
  EXPECT_THROW(model->decode(torch::zeros({4, 2})), molearn::InputError);
  EXPECT_THROW(model->encode(torch::zeros({4, 3, 19})), molearn::InputError);
}

TEST(Siren, EncodesAtomIdentityAndPosition) {
  SirenImpl model(config_for(4, 2, {"N", "CA", "C", "CA"}));
  const auto encoding = model.named_buffers()["encoding"];
  ASSERT_EQ(encoding.sizes(), (std::vector<std::int64_t>{4, SirenImpl::kPositionalEncoding + 3}));
  const auto one_hot = encoding.slice(1, SirenImpl::kPositionalEncoding);
  EXPECT_TRUE(torch::equal(one_hot.sum(1), torch::ones({4})));
  EXPECT_TRUE(torch::equal(one_hot[1], one_hot[3])) << "both CA atoms share a type";
  EXPECT_FALSE(torch::equal(one_hot[0], one_hot[1]));
  // Position 0: sin 0 = 0, cos 0 = 1 alternately.
  EXPECT_FLOAT_EQ(encoding[0][0].item<float>(), 0.0f);
  EXPECT_FLOAT_EQ(encoding[0][1].item<float>(), 1.0f);
  EXPECT_FALSE(torch::equal(encoding[1].slice(0, 0, 32), encoding[2].slice(0, 0, 32)));
  SirenImpl plain(config_for(4));
  EXPECT_EQ(plain.named_buffers()["encoding"].size(1), SirenImpl::kPositionalEncoding);
}

// The code is minus the gradient of the inner loss at the origin: central
// differences of that loss along each latent axis give the same numbers.
TEST(Siren, EncodingIsMinusTheGradientAtTheOrigin) {
  torch::manual_seed(3);
  SirenImpl model(config_for(12, 2));
  const auto x = random_structures(1, 12, 4).to(torch::kFloat64);
  model.to(torch::kFloat64);
  const torch::NoGradGuard no_grad;
  const auto z = model.encode(x);
  EXPECT_FALSE(z.requires_grad()) << "under no_grad the code is a plain tensor";
  const double h = 1e-6;
  for (std::int64_t k = 0; k < 2; ++k) {
    auto step = torch::zeros({1, 2}, torch::kFloat64);
    step[0][k] = h;
    const double derivative = (inner_loss(model, step, x) - inner_loss(model, -step, x)) / (2 * h);
    EXPECT_NEAR(z[0][k].item<double>(), -derivative, 1e-6 * std::max(1.0, std::abs(derivative)));
  }
}

TEST(Siren, AStructuresCodeDoesNotDependOnItsBatch) {
  torch::manual_seed(8);
  SirenImpl model(config_for(10, 2));
  const auto x = random_structures(5, 10, 9);
  const torch::NoGradGuard no_grad;
  const auto together = model.encode(x);
  for (std::int64_t b = 0; b < 5; ++b)
    EXPECT_TRUE(torch::allclose(model.encode(x.slice(0, b, b + 1))[0], together[b], 1e-5, 1e-6)) << "structure " << b;
}

TEST(Siren, TrainsThroughTheGradientStep) {
  torch::manual_seed(5);
  SirenImpl model(config_for(16, 2));
  const auto x = random_structures(6, 16, 6);
  const auto loss = torch::mse_loss(model.forward(x), x);
  loss.backward();
  // The first layer gets gradient twice: through the decoding and through
  // the code the inner gradient produced (second order).
  const auto grad = model.named_parameters()["decoder.layer1.weight"].grad();
  ASSERT_TRUE(grad.defined());
  EXPECT_TRUE(torch::isfinite(grad).all().item<bool>());
  EXPECT_GT(grad.abs().sum().item<double>(), 0.0);

  torch::optim::Adam optimizer(model.parameters(), torch::optim::AdamOptions(1e-4));
  double first = 0, last = 0;
  for (int step = 0; step < 150; ++step) {
    optimizer.zero_grad();
    const auto l = torch::mse_loss(model.forward(x), x);
    l.backward();
    optimizer.step();
    (step == 0 ? first : last) = l.item<double>();
  }
  EXPECT_LT(last, 0.5 * first) << "reconstruction error " << first << " -> " << last;
}

TEST(Siren, RefusesUnusableConfigurations) {
  auto bad = config_for(10);
  bad.siren_w0 = 0;
  EXPECT_THROW(SirenImpl{bad}, molearn::InputError);
  bad = config_for(10);
  bad.siren_hidden = 0;
  EXPECT_THROW(SirenImpl{bad}, molearn::InputError);
  EXPECT_THROW(SirenImpl(config_for(3, 2, {"N", "CA"})), molearn::InputError);
  EXPECT_THROW(SirenImpl(config_for(0)), molearn::InputError);
}
