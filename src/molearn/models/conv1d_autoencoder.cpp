#include "molearn/models/conv1d_autoencoder.hpp"

#include <algorithm>
#include <cmath>
#include <string>

#include "molearn/core/error.hpp"
#include "molearn/models/coordinates_layer.hpp"

namespace molearn {

namespace conv1d_detail {

ResidualBlockImpl::ResidualBlockImpl(std::int64_t channels) {
  conv_ = register_module("conv",
                          torch::nn::Conv1d(torch::nn::Conv1dOptions(channels, channels, 3).padding(1).bias(false)));
  bn_ = register_module("bn", BatchNorm(channels));
}

torch::Tensor ResidualBlockImpl::forward(const torch::Tensor& x) {
  return x + torch::relu(bn_->forward(conv_->forward(x)));
}

ScaleBlockImpl::ScaleBlockImpl(bool upsample, std::int64_t in_channels, std::int64_t out_channels,
                               std::int64_t residual_blocks, double dropout) {
  // Kernel 4, stride 2, padding 1 maps an even length exactly to its half
  // (and the transpose back to its double), so lengths stay predictable.
  if (upsample) {
    up_ = register_module(
        "conv", torch::nn::ConvTranspose1d(
                    torch::nn::ConvTranspose1dOptions(in_channels, out_channels, 4).stride(2).padding(1).bias(false)));
  } else {
    down_ = register_module(
        "conv",
        torch::nn::Conv1d(torch::nn::Conv1dOptions(in_channels, out_channels, 4).stride(2).padding(1).bias(false)));
  }
  bn_ = register_module("bn", BatchNorm(out_channels));
  for (std::int64_t j = 0; j < residual_blocks; ++j)
    residual_.push_back(register_module("res" + std::to_string(j), ResidualBlock(out_channels)));
  // Registered only when used, so a model without dropout has no such entry.
  if (dropout > 0.0) drop_ = register_module("drop", torch::nn::Dropout(dropout));
}

torch::Tensor ScaleBlockImpl::forward(torch::Tensor x) {
  x = up_ ? up_->forward(x) : down_->forward(x);
  x = torch::relu(bn_->forward(x));
  for (auto& block : residual_) x = block->forward(x);
  if (drop_) x = drop_->forward(x);
  return x;
}

}  // namespace conv1d_detail

namespace {

constexpr std::int64_t kMaxDepth = 16;          // 2^16 padding granularity is already absurd
constexpr std::int64_t kMaxChannels = 1 << 16;  // beyond this a layer cannot fit in memory anyway
constexpr std::int64_t kMaxAtoms = std::int64_t{1} << 32;
constexpr std::int64_t kMaxPooledLength = 4;

void validate(const ModelConfig& c) {
  auto fail = [](const std::string& what) { throw InputError("conv1d autoencoder: " + what); };
  if (c.atoms < 2) fail("needs at least 2 atoms, got " + std::to_string(c.atoms));
  if (c.atoms > kMaxAtoms) fail("too many atoms (" + std::to_string(c.atoms) + ")");
  if (c.latent_dim < 1) fail("latent_dim must be >= 1, got " + std::to_string(c.latent_dim));
  if (c.depth < 1 || c.depth > kMaxDepth)
    fail("depth must be in 1.." + std::to_string(kMaxDepth) + ", got " + std::to_string(c.depth));
  if (c.init_channels < 1) fail("init_channels must be >= 1, got " + std::to_string(c.init_channels));
  if (!(c.channel_growth > 0.0) || !std::isfinite(c.channel_growth))
    fail("channel_growth must be a positive number, got " + std::to_string(c.channel_growth));
  if (c.residual_blocks < 0) fail("residual_blocks must be >= 0, got " + std::to_string(c.residual_blocks));
  // !(a && b) also rejects NaN.
  if (!(c.dropout >= 0.0 && c.dropout < 1.0)) fail("dropout must be in [0, 1), got " + std::to_string(c.dropout));
}

}  // namespace

Conv1dAutoencoderImpl::Conv1dAutoencoderImpl(const ModelConfig& config) : config_(config) {
  validate(config_);
  const std::int64_t depth = config_.depth;

  for (std::int64_t i = 0; i < depth; ++i) {
    const double c = std::round(static_cast<double>(config_.init_channels) *
                                std::pow(config_.channel_growth, static_cast<double>(i)));
    if (!(c >= 1.0 && c <= static_cast<double>(kMaxChannels)))
      throw InputError("conv1d autoencoder: level " + std::to_string(i) + " would have " + std::to_string(c) +
                       " channels (init_channels * channel_growth^level must round to 1.." +
                       std::to_string(kMaxChannels) + ")");
    channels_.push_back(static_cast<std::int64_t>(c));
  }

  const std::int64_t scale = std::int64_t{1} << depth;
  reduced_length_ = std::max<std::int64_t>(2, (config_.atoms + scale - 1) / scale);
  padded_length_ = reduced_length_ * scale;
  pooled_length_ = std::min(reduced_length_, kMaxPooledLength);
  const std::int64_t deepest = channels_.back();

  for (std::int64_t i = 0; i < depth; ++i) {
    const std::int64_t in = i == 0 ? 3 : channels_[i - 1];
    down_.push_back(
        register_module("down" + std::to_string(i),
                        conv1d_detail::ScaleBlock(false, in, channels_[i], config_.residual_blocks, config_.dropout)));
  }
  enc_fc_ = register_module("enc_fc", torch::nn::Linear(deepest * pooled_length_, config_.latent_dim));

  dec_fc_ = register_module("dec_fc", torch::nn::Linear(config_.latent_dim, deepest * reduced_length_));
  for (std::int64_t k = 0; k < depth; ++k) {
    const std::int64_t level = depth - 1 - k;
    // The outermost level keeps c_0 channels: the 3-channel projection is the
    // head's job, so that the last upsampling still has a non-linearity.
    const std::int64_t out = level == 0 ? channels_[0] : channels_[level - 1];
    up_.push_back(register_module(
        "up" + std::to_string(k),
        conv1d_detail::ScaleBlock(true, channels_[level], out, config_.residual_blocks, config_.dropout)));
  }
  // Kernel 3 lets each output atom look at its neighbours, which smooths the
  // stride-2 transposed convolutions' alternating (checkerboard) pattern.
  head_ = register_module("head", torch::nn::Conv1d(torch::nn::Conv1dOptions(channels_[0], 3, 3).padding(1)));
}

torch::Tensor Conv1dAutoencoderImpl::encode(torch::Tensor x) {
  if (x.dim() != 3 || x.size(1) != 3 || x.size(2) != config_.atoms)
    throw InputError("conv1d autoencoder: expected input [batch, 3, " + std::to_string(config_.atoms) + "], got " +
                     c10::str(x.sizes()));
  // Zeros sit at the centre of the scaled coordinates, the least surprising
  // filler; the decoder's copy of the padding is cropped away.
  if (padded_length_ > config_.atoms) x = torch::constant_pad_nd(x, {0, padded_length_ - config_.atoms});
  for (auto& block : down_) x = block->forward(x);
  // Pooling to a fixed length keeps enc_fc small whatever the protein size;
  // the sigmoid bounds what it sees, as in the original model.
  x = torch::sigmoid(torch::adaptive_avg_pool1d(x, {pooled_length_}));
  return enc_fc_->forward(x.flatten(1));
}

torch::Tensor Conv1dAutoencoderImpl::decode(torch::Tensor z) {
  if (z.dim() != 2 || z.size(1) != config_.latent_dim)
    throw InputError("conv1d autoencoder: expected latent codes [batch, " + std::to_string(config_.latent_dim) +
                     "], got " + c10::str(z.sizes()));
  auto x = dec_fc_->forward(z).view({z.size(0), channels_.back(), reduced_length_});
  for (auto& block : up_) x = block->forward(x);
  x = coordinates_layer(head_, x, /*decoding=*/!is_training());
  return x.narrow(2, 0, config_.atoms).contiguous();
}

}  // namespace molearn
