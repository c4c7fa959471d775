#include "molearn/models/foldingnet.hpp"

#include <algorithm>
#include <string>

#include "molearn/core/error.hpp"
#include "molearn/models/knn.hpp"

namespace molearn {
namespace foldingnet {
namespace {

namespace nn = torch::nn;

nn::Conv1d pointwise_conv(std::int64_t in, std::int64_t out) { return nn::Conv1d(nn::Conv1dOptions(in, out, 1)); }

nn::Conv1d folding_conv(std::int64_t in, std::int64_t out) {
  return nn::Conv1d(nn::Conv1dOptions(in, out, 3).stride(1).padding(1));
}

torch::Tensor neighbours(const torch::Tensor& x, std::int64_t k, bool reference) {
  return reference ? knn::knn_indices_reference(x, k) : knn::knn_indices(x, k);
}

}  // namespace

GraphLayerImpl::GraphLayerImpl(std::int64_t in_channels, std::int64_t out_channels, std::int64_t k)
    : conv(register_module("conv", pointwise_conv(in_channels, out_channels))),
      bn(register_module("bn", BatchNorm(out_channels))),
      k_(k) {}

torch::Tensor GraphLayerImpl::forward(const torch::Tensor& x, bool reference_kernels) {
  // As in Python molearn the neighbourhoods are a function of the features
  // but are not differentiated; the gradient flows through the max-pool.
  const std::int64_t k = std::min(k_, x.size(2));
  auto idx = neighbours(x, k, reference_kernels);
  auto pooled = reference_kernels ? knn::neighbour_max_reference(x, idx) : knn::neighbour_max(x, idx);
  return torch::relu(bn(conv(pooled)));
}

EncoderImpl::EncoderImpl(std::int64_t latent_dim, std::int64_t k)
    : conv1(register_module("conv1", pointwise_conv(12, 64))),
      conv2(register_module("conv2", pointwise_conv(64, 64))),
      conv3(register_module("conv3", pointwise_conv(64, 64))),
      conv4(register_module("conv4", pointwise_conv(1024, 512))),
      conv5(register_module("conv5", pointwise_conv(512, latent_dim))),
      bn1(register_module("bn1", BatchNorm(64))),
      bn2(register_module("bn2", BatchNorm(64))),
      bn3(register_module("bn3", BatchNorm(64))),
      bn4(register_module("bn4", BatchNorm(512))),
      graph_layer1(register_module("graph_layer1", GraphLayer(64, 128, k))),
      graph_layer2(register_module("graph_layer2", GraphLayer(128, 1024, k))),
      k_(k) {}

torch::Tensor EncoderImpl::forward(const torch::Tensor& x, bool reference_kernels) {
  const std::int64_t batch = x.size(0);
  const std::int64_t k = std::min(k_, x.size(2));

  // Local shape descriptor: covariance of each atom's xyz neighbourhood.
  auto idx = neighbours(x, k, reference_kernels);
  auto cov = reference_kernels ? knn::local_covariance_reference(x, idx) : knn::local_covariance(x, idx);
  auto h = torch::cat({x, cov}, 1);  // [B, 12, N]

  h = torch::relu(bn1(conv1(h)));
  h = torch::relu(bn2(conv2(h)));
  h = torch::relu(bn3(conv3(h)));
  h = graph_layer1->forward(h, reference_kernels);
  h = graph_layer2->forward(h, reference_kernels);
  h = bn4(conv4(h));
  h = std::get<0>(h.max(2, /*keepdim=*/true));  // global max-pool: [B, 512, 1]
  return conv5(h).view({batch, -1});
}

FoldingLayerImpl::FoldingLayerImpl(std::int64_t in_channels, std::int64_t hidden, std::int64_t out_channels)
    : conv1(register_module("conv1", folding_conv(in_channels, hidden))),
      conv2(register_module("conv2", folding_conv(hidden, hidden))),
      conv3(register_module("conv3", folding_conv(hidden, out_channels))),
      bn1(register_module("bn1", BatchNorm(hidden))),
      bn2(register_module("bn2", BatchNorm(hidden))) {}

torch::Tensor FoldingLayerImpl::forward(const torch::Tensor& x) {
  auto h = torch::relu(bn1(conv1(x)));
  h = torch::relu(bn2(conv2(h)));
  return conv3(h);
}

DecoderLayerImpl::DecoderLayerImpl(std::int64_t in_points, std::int64_t out_points, std::int64_t in_channels,
                                   std::int64_t out_channels)
    : fold1(register_module("fold1", FoldingLayer(in_channels + 1, 512, out_channels))),
      fold2(register_module("fold2", FoldingLayer(in_channels + out_channels + 1, 512, out_channels))),
      out_points_(out_points),
      repeats_(out_points / in_points) {
  TORCH_CHECK(out_points % in_points == 0, "DecoderLayer: ", out_points, " points are not a multiple of ",
              in_points);
}

torch::Tensor DecoderLayerImpl::forward(const torch::Tensor& x) {
  const std::int64_t batch = x.size(0);
  // The 1D folding grid; cheap to rebuild, and not a buffer so that state
  // dicts carry exactly the parameters Python molearn has.
  auto grid = torch::linspace(-0.5, 0.5, out_points_, x.options()).view({1, 1, out_points_}).expand(
      {batch, 1, out_points_});
  auto code = x.repeat_interleave(repeats_, /*dim=*/2);  // [B, C, out_points]
  auto recon1 = fold1(torch::cat({grid, code}, 1));
  return recon1 + fold2(torch::cat({grid, code, recon1}, 1));
}

DecoderImpl::DecoderImpl(std::int64_t points, std::int64_t latent_dim) : points_(points), latent_dim_(latent_dim) {
  const std::int64_t s = points / 128 + 1;
  layer1 = register_module("layer1", DecoderLayer(1, s, latent_dim, 384));
  layer2 = register_module("layer2", DecoderLayer(s, 8 * s, 384, 48));
  layer3 = register_module("layer3", DecoderLayer(8 * s, 32 * s, 48, 12));
  layer4 = register_module("layer4", DecoderLayer(32 * s, 128 * s, 12, 3));
}

torch::Tensor DecoderImpl::forward(const torch::Tensor& z) {
  auto h = z.view({z.size(0), latent_dim_, 1});
  h = layer1(h);
  h = layer2(h);
  h = layer3(h);
  h = layer4(h);                                 // [B, 3, 128 s], 128 s > points
  return h.narrow(2, 0, points_).contiguous();  // crop to the real atoms
}

}  // namespace foldingnet

FoldingNetImpl::FoldingNetImpl(const ModelConfig& config) : config_(config) {
  if (config.atoms < 2)
    throw InputError("FoldingNet needs at least 2 atoms per structure, got " + std::to_string(config.atoms));
  if (config.latent_dim < 1)
    throw InputError("FoldingNet needs latent_dim >= 1, got " + std::to_string(config.latent_dim));
  if (config.knn < 1) throw InputError("FoldingNet needs knn >= 1, got " + std::to_string(config.knn));
  // Small proteins (e.g. chignolin, ~40 atoms) have fewer atoms than the
  // default 16 neighbours would need only if N < 16; cap k at N.
  const std::int64_t k = std::min(config.knn, config.atoms);
  encoder_ = register_module("encoder", foldingnet::Encoder(config.latent_dim, k));
  decoder_ = register_module("decoder", foldingnet::Decoder(config.atoms, config.latent_dim));
}

torch::Tensor FoldingNetImpl::encode(torch::Tensor x) {
  if (x.dim() != 3 || x.size(0) < 1 || x.size(1) != 3 || x.size(2) != config_.atoms) {
    std::string shape = "[";
    for (std::int64_t d = 0; d < x.dim(); ++d) shape += (d ? ", " : "") + std::to_string(x.size(d));
    throw InputError("FoldingNet expects coordinates [B, 3, " + std::to_string(config_.atoms) + "], got " + shape +
                     "]");
  }
  return encoder_->forward(x, reference_kernels_);
}

torch::Tensor FoldingNetImpl::decode(torch::Tensor z) {
  if (z.dim() != 2 || z.size(0) < 1 || z.size(1) != config_.latent_dim)
    throw InputError("FoldingNet expects latent codes [B, " + std::to_string(config_.latent_dim) + "]");
  return decoder_->forward(z);
}

}  // namespace molearn
