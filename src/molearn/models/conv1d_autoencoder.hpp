// 1D-convolutional autoencoder of Ramaswamy et al. (PRX 2021).
#pragma once

#include "molearn/models/autoencoder.hpp"

namespace molearn {

class Conv1dAutoencoderImpl : public AutoencoderImpl {
 public:
  explicit Conv1dAutoencoderImpl(const ModelConfig& config);
  torch::Tensor encode(torch::Tensor x) override;
  torch::Tensor decode(torch::Tensor z) override;
  const ModelConfig& config() const override { return config_; }

 private:
  ModelConfig config_;
};

}  // namespace molearn
