// The registries through which library users add models and loss terms
// (models/autoencoder.hpp, train/loss_terms.hpp). The examples in
// examples/cpp train with both; these are the error paths.
#include <gtest/gtest.h>

#include "molearn/core/error.hpp"
#include "molearn/models/autoencoder.hpp"
#include "molearn/train/loss_terms.hpp"

namespace molearn {
namespace {

class LinearAutoencoder : public AutoencoderImpl {
 public:
  explicit LinearAutoencoder(const ModelConfig& c) : config_(c) {}
  torch::Tensor encode(torch::Tensor x) override { return x.flatten(1).narrow(1, 0, config_.latent_dim); }
  torch::Tensor decode(torch::Tensor z) override { return z.new_zeros({z.size(0), 3, config_.atoms}); }
  const ModelConfig& config() const override { return config_; }

 private:
  ModelConfig config_;
};

TEST(AutoencoderRegistry, BuildsARegisteredModelByName) {
  register_autoencoder("test-linear", [](const ModelConfig& c) { return std::make_shared<LinearAutoencoder>(c); });
  ModelConfig config;
  config.architecture = "test-linear";
  config.atoms = 7;
  const Autoencoder model = make_autoencoder(config);
  EXPECT_EQ(model->decode(torch::zeros({2, 2})).sizes(), (std::vector<std::int64_t>{2, 3, 7}));
  const auto names = autoencoder_names();
  EXPECT_EQ(names.front(), "foldingnet");
  EXPECT_NE(std::find(names.begin(), names.end(), "test-linear"), names.end());
  EXPECT_THROW(
      register_autoencoder("test-linear", [](const ModelConfig& c) { return std::make_shared<LinearAutoencoder>(c); }),
      InputError);
  EXPECT_THROW(
      register_autoencoder("foldingnet", [](const ModelConfig& c) { return std::make_shared<LinearAutoencoder>(c); }),
      InputError);
  EXPECT_THROW(register_autoencoder("", [](const ModelConfig& c) { return std::make_shared<LinearAutoencoder>(c); }),
               InputError);
}

TEST(AutoencoderRegistry, UnknownNamesListTheRegisteredOnes) {
  ModelConfig config;
  config.architecture = "no-such-model";
  config.atoms = 7;
  try {
    make_autoencoder(config);
    FAIL() << "no error";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("foldingnet, conv1d"), std::string::npos) << e.what();
  }
  register_autoencoder("test-null", [](const ModelConfig&) { return Autoencoder(); });
  config.architecture = "test-null";
  EXPECT_THROW(make_autoencoder(config), InputError);
}

TEST(LossTermRegistry, FindsRegisteredTermsAndRefusesBadNames) {
  register_loss_term("test_mean", [](const LossInputs& in) { return in.reconstruction.mean(); });
  const torch::Tensor x = torch::ones({2, 3, 4}), z = torch::zeros({2, 2});
  EXPECT_DOUBLE_EQ(find_loss_term("test_mean")(LossInputs{x, x, z, 1.0}).item<double>(), 1.0);
  EXPECT_THROW(register_loss_term("test_mean", [](const LossInputs& in) { return in.latent.sum(); }), InputError);
  EXPECT_THROW(register_loss_term("has space", [](const LossInputs& in) { return in.latent.sum(); }), InputError);
  try {
    find_loss_term("missing");
    FAIL() << "no error";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("test_mean"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace molearn
