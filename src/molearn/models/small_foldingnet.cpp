#include "molearn/models/small_foldingnet.hpp"

namespace molearn {
namespace small_foldingnet {

DecoderImpl::DecoderImpl(std::int64_t points, std::int64_t latent_dim) : points_(points), latent_dim_(latent_dim) {
  const std::int64_t s = points / 8 + 1;
  layer1 = register_module("layer1", foldingnet::DecoderLayer(1, s, latent_dim, 96));
  layer2 = register_module("layer2", foldingnet::DecoderLayer(s, 8 * s, 96, 3));
}

torch::Tensor DecoderImpl::forward(const torch::Tensor& z, bool plain) {
  auto h = z.view({z.size(0), latent_dim_, 1});
  h = layer1->forward(h, plain);
  h = layer2->forward(h, plain);                // [B, 3, 8 s] with 8 s > points
  return h.narrow(2, 0, points_).contiguous();  // crop to the real atoms
}

}  // namespace small_foldingnet

namespace {
constexpr const char* kName = "small FoldingNet";
}

SmallFoldingNetImpl::SmallFoldingNetImpl(const ModelConfig& config) : config_(config) {
  foldingnet::check_config(config, kName);
  encoder_ = register_module("encoder", foldingnet::Encoder(config.latent_dim, foldingnet::encoder_knn(config)));
  decoder_ = register_module("decoder", small_foldingnet::Decoder(config.atoms, config.latent_dim));
}

torch::Tensor SmallFoldingNetImpl::encode(torch::Tensor x) {
  foldingnet::check_coordinates(x, config_.atoms, kName);
  return encoder_->forward(x, plain_);
}

torch::Tensor SmallFoldingNetImpl::decode(torch::Tensor z) {
  foldingnet::check_latent_codes(z, config_.latent_dim, kName);
  return decoder_->forward(z, plain_);
}

}  // namespace molearn
