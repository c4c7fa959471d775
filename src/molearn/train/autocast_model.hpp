// A model's encode and decode in a chosen precision: under bfloat16
// autocast when asked (--precision bf16), with fp32 out either way, so that
// losses, RMSDs, metrics and the physics downstream stay fp32. Training,
// generation, scans, paths and the GUI all call the model through these.
#pragma once

#include <torch/torch.h>

#include "molearn/models/autoencoder.hpp"

namespace molearn {

torch::Tensor encode_autocast(AutoencoderImpl& model, const torch::Tensor& x, bool bf16);
torch::Tensor decode_autocast(AutoencoderImpl& model, const torch::Tensor& z, bool bf16);

}  // namespace molearn
