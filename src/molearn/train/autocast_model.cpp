#include "molearn/train/autocast_model.hpp"

#include "molearn/train/precision.hpp"

namespace molearn {

torch::Tensor encode_autocast(AutoencoderImpl& model, const torch::Tensor& x, bool bf16) {
  const Bf16Autocast autocast(bf16);
  return model.encode(x).to(torch::kFloat32);
}

torch::Tensor decode_autocast(AutoencoderImpl& model, const torch::Tensor& z, bool bf16) {
  const Bf16Autocast autocast(bf16);
  return model.decode(z).to(torch::kFloat32);
}

}  // namespace molearn
