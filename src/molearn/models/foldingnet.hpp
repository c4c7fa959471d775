// FoldingNet-style graph autoencoder, as used by Python molearn.
#pragma once

#include "molearn/models/autoencoder.hpp"

namespace molearn {

class FoldingNetImpl : public AutoencoderImpl {
 public:
  explicit FoldingNetImpl(const ModelConfig& config);
  torch::Tensor encode(torch::Tensor x) override;
  torch::Tensor decode(torch::Tensor z) override;
  const ModelConfig& config() const override { return config_; }

 private:
  ModelConfig config_;
};

}  // namespace molearn
