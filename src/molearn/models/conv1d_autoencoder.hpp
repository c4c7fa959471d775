// 1D-convolutional autoencoder of Ramaswamy et al. (PRX 2021), "Deep learning
// protein conformational space with convolutions and latent interpolations".
//
// The 3 coordinates are channels and the N atoms (in file order) are the
// sequence, so neighbouring atoms of the chain are neighbouring samples.
//
// Sizes. d = config.depth, c_i = round(init_channels * channel_growth^i) for
// i = 0..d-1, R = max(2, ceil(N / 2^d)) is the length left after d halvings,
// L = R * 2^d >= N is the padded length, P = min(R, 4) the pooled length.
// R >= 2 (rather than 1) so that the deepest BatchNorm still sees two values
// per channel when training with a batch of one structure.
//
// Layer layout (parameter names as in named_parameters()/named_buffers()):
//
//   input [B, 3, N] --zero-pad at the end--> [B, 3, L]
//   encoder, for i = 0..d-1 ("down<i>"):
//     down<i>.conv   Conv1d(c_{i-1} -> c_i, kernel 4, stride 2, padding 1, no bias),  c_{-1} = 3
//     down<i>.bn     BatchNorm1d(c_i), then ReLU                  length halves
//     down<i>.res<j> for j < residual_blocks: x + ReLU(BN(Conv1d(c_i -> c_i, k 3, pad 1, no bias)(x)))
//                    (sub-modules down<i>.res<j>.conv, down<i>.res<j>.bn)
//     down<i>.drop   Dropout(dropout), only when dropout > 0
//   [B, c_{d-1}, R] --adaptive average pool--> [B, c_{d-1}, P] --sigmoid, flatten-->
//   enc_fc         Linear(c_{d-1} * P -> latent_dim)                        -> z [B, latent_dim]
//
//   decoder:
//   dec_fc         Linear(latent_dim -> c_{d-1} * R), viewed as [B, c_{d-1}, R]
//   for k = 0..d-1 ("up<k>", level i = d-1-k, mirrors down<i>):
//     up<k>.conv     ConvTranspose1d(c_i -> c_{i-1}, kernel 4, stride 2, padding 1, no bias),
//                    except that the last one keeps c_0 channels       length doubles
//     up<k>.bn       BatchNorm1d, then ReLU
//     up<k>.res<j>   residual blocks as in the encoder
//     up<k>.drop     Dropout(dropout), only when dropout > 0
//   head           Conv1d(c_0 -> 3, kernel 3, padding 1, with bias), no activation
//   [B, 3, L] --crop to the first N atoms--> [B, 3, N]
//
// Every convolution feeding a BatchNorm has no bias (the BN shift replaces
// it); the linear layers and the head have one.
//
// Example: the defaults (depth 4, 32 channels, growth 1.5, latent 2) on 2145
// atoms give channels 32/48/72/108, R = 135, L = 2160, P = 4 and 152,409
// parameters (encoder 52,842, of which enc_fc 866; decoder 99,567, of which
// dec_fc 43,740).
#pragma once

#include <vector>

#include "molearn/models/autoencoder.hpp"
#include "molearn/models/batch_norm.hpp"

namespace molearn {

namespace conv1d_detail {

// x + ReLU(BN(Conv1d k3(x))): refines features without changing their shape.
class ResidualBlockImpl : public torch::nn::Module {
 public:
  explicit ResidualBlockImpl(std::int64_t channels);
  torch::Tensor forward(const torch::Tensor& x);

 private:
  torch::nn::Conv1d conv_{nullptr};
  BatchNorm bn_{nullptr};  // molearn::BatchNorm: statistics span processes in data-parallel runs
};
TORCH_MODULE(ResidualBlock);

// One level of the encoder (Conv1d, halving the length) or of the decoder
// (ConvTranspose1d, doubling it), followed by BN, ReLU, residual blocks and
// dropout.
class ScaleBlockImpl : public torch::nn::Module {
 public:
  ScaleBlockImpl(bool upsample, std::int64_t in_channels, std::int64_t out_channels, std::int64_t residual_blocks,
                 double dropout);
  torch::Tensor forward(torch::Tensor x);

 private:
  torch::nn::Conv1d down_{nullptr};
  torch::nn::ConvTranspose1d up_{nullptr};
  BatchNorm bn_{nullptr};  // molearn::BatchNorm: statistics span processes in data-parallel runs
  std::vector<ResidualBlock> residual_;
  torch::nn::Dropout drop_{nullptr};
};
TORCH_MODULE(ScaleBlock);

}  // namespace conv1d_detail

class Conv1dAutoencoderImpl : public AutoencoderImpl {
 public:
  // Throws InputError for sizes the network cannot handle (atoms < 2,
  // depth outside 1..16, channel counts < 1 or absurdly large, dropout
  // outside [0, 1), negative residual_blocks, latent_dim < 1).
  explicit Conv1dAutoencoderImpl(const ModelConfig& config);
  torch::Tensor encode(torch::Tensor x) override;
  torch::Tensor decode(torch::Tensor z) override;
  const ModelConfig& config() const override { return config_; }

 private:
  ModelConfig config_;
  std::vector<std::int64_t> channels_;  // c_0 .. c_{d-1}
  std::int64_t reduced_length_ = 0;     // R
  std::int64_t padded_length_ = 0;      // L = R * 2^depth
  std::int64_t pooled_length_ = 0;      // P

  std::vector<conv1d_detail::ScaleBlock> down_;
  torch::nn::Linear enc_fc_{nullptr};
  torch::nn::Linear dec_fc_{nullptr};
  std::vector<conv1d_detail::ScaleBlock> up_;
  torch::nn::Conv1d head_{nullptr};
};
TORCH_MODULE(Conv1dAutoencoder);

}  // namespace molearn
