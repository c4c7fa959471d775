// The interface every molearn autoencoder implements, and the registry that
// builds one by name.
#pragma once

#include <torch/torch.h>

#include <string>
#include <vector>

#include "molearn/models/model_config.hpp"

namespace molearn {

// Coordinates go in and come out channels-first, as in Python molearn:
// [batch, 3, atoms], scaled as in the dataset file.
class AutoencoderImpl : public torch::nn::Module {
 public:
  // [B, 3, N] -> latent codes [B, latent_dim]
  virtual torch::Tensor encode(torch::Tensor x) = 0;
  // [B, latent_dim] -> [B, 3, N], exactly `atoms` points
  virtual torch::Tensor decode(torch::Tensor z) = 0;
  torch::Tensor forward(torch::Tensor x) { return decode(encode(x)); }
  virtual const ModelConfig& config() const = 0;
};

using Autoencoder = std::shared_ptr<AutoencoderImpl>;

// Builds the architecture `config.architecture` names. Throws InputError for
// an unknown name or unusable sizes.
Autoencoder make_autoencoder(const ModelConfig& config);

// Names make_autoencoder accepts.
std::vector<std::string> autoencoder_names();

}  // namespace molearn
