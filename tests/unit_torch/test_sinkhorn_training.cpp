// The Sinkhorn trainer's parts: prior samples, and the encoder's fit, whose
// gradient must reach the encoder only and whose eval-mode decoding must
// leave the decoder's batch-norm statistics alone.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <map>
#include <string>

#include "molearn/models/autoencoder.hpp"
#include "molearn/train/eval_mode_scope.hpp"
#include "molearn/train/sinkhorn_training.hpp"

using namespace molearn;

namespace {

Autoencoder small_model() {
  ModelConfig c;
  c.architecture = "small-foldingnet";
  c.atoms = 24;
  c.latent_dim = 2;
  torch::manual_seed(4);
  return make_autoencoder(c);
}

bool starts_with(const std::string& text, const std::string& prefix) { return text.rfind(prefix, 0) == 0; }

}  // namespace

TEST(SinkhornTraining, PriorSamplesAreStandardNormalAndResumable) {
  std::mt19937_64 a(9), b(9);
  SinkhornTraining training({}, 3, 0);
  const auto z = training.prior_sample(a, 4000);
  EXPECT_EQ(z.sizes(), (std::vector<std::int64_t>{4000, 3}));
  EXPECT_NEAR(z.mean().item<double>(), 0.0, 0.03);
  EXPECT_NEAR(z.std().item<double>(), 1.0, 0.03);
  // The same generator state gives the same samples: a resumed run draws them again.
  EXPECT_TRUE(torch::equal(z, standard_normal_latents(b, 4000, 3)));
}

TEST(SinkhornTraining, EncoderFitTrainsTheEncoderOnly) {
  Autoencoder model = small_model();
  model->train();
  torch::manual_seed(5);
  const auto x = torch::randn({6, 3, 24});
  std::map<std::string, torch::Tensor> before;
  for (const auto& b : model->named_buffers()) before[b.key()] = b.value().clone();
  SinkhornTraining training({}, 2, 0);
  const auto eval_decode = [&model](const torch::Tensor& z) {
    const EvalModeScope eval_mode(*model);
    return model->decode(z);
  };
  const auto fit = training.encoder_fit([&model](const torch::Tensor& t) { return model->encode(t); }, eval_decode, x);
  EXPECT_FALSE(fit.mse.requires_grad());
  EXPECT_TRUE(model->is_training()) << "the eval-mode decoding puts the model back in training mode";
  fit.surrogate.backward();
  int encoder_with_gradient = 0;
  for (const auto& p : model->named_parameters()) {
    const auto& grad = p.value().grad();
    if (starts_with(p.key(), "decoder.")) {
      EXPECT_TRUE(!grad.defined() || grad.abs().sum().item<double>() == 0.0) << p.key() << " got gradient";
    } else if (grad.defined() && grad.abs().sum().item<double>() > 0) {
      ++encoder_with_gradient;
    }
  }
  EXPECT_GT(encoder_with_gradient, 0) << "the encoder learns from the fit";
  for (const auto& b : model->named_buffers()) {
    if (starts_with(b.key(), "decoder.")) {
      EXPECT_TRUE(torch::equal(b.value(), before.at(b.key())))
          << b.key() << ": the decoder's statistics must stay those of prior samples";
    }
  }
}

// The surrogate's gradient for the encoder is the reconstruction MSE's.
TEST(SinkhornTraining, SurrogateHasTheMseGradientForTheEncoder) {
  Autoencoder model = small_model();
  model->eval();  // deterministic batch norm, so both passes see the same function
  torch::manual_seed(6);
  const auto x = torch::randn({4, 3, 24});
  SinkhornTraining training({}, 2, 0);
  const auto encode = [&model](const torch::Tensor& t) { return model->encode(t); };
  const auto decode = [&model](const torch::Tensor& z) { return model->decode(z); };
  training.encoder_fit(encode, decode, x).surrogate.backward();
  std::map<std::string, torch::Tensor> surrogate_grads;
  for (const auto& p : model->named_parameters())
    if (starts_with(p.key(), "encoder.") && p.value().grad().defined())
      surrogate_grads[p.key()] = p.value().grad().clone();
  model->zero_grad();
  torch::mse_loss(model->decode(model->encode(x)), x).backward();
  ASSERT_FALSE(surrogate_grads.empty());
  for (const auto& [name, grad] : surrogate_grads)
    EXPECT_TRUE(torch::allclose(grad, model->named_parameters()[name].grad(), 1e-4, 1e-7)) << name;
}
