#include "molearn/models/foldingnet.hpp"

#include <ATen/autocast_mode.h>

#include <algorithm>
#include <string>

#include "molearn/core/error.hpp"
#include "molearn/models/coordinates_layer.hpp"
#include "molearn/models/folding_layer_onednn.hpp"
#include "molearn/models/knn.hpp"
#include "molearn/models/onednn_conv_chain.hpp"

namespace molearn {
namespace foldingnet {
namespace {

namespace nn = torch::nn;

nn::Conv1d pointwise_conv(std::int64_t in, std::int64_t out) { return nn::Conv1d(nn::Conv1dOptions(in, out, 1)); }

nn::Conv1d folding_conv(std::int64_t in, std::int64_t out) {
  return nn::Conv1d(nn::Conv1dOptions(in, out, 3).stride(1).padding(1));
}

// torch.nn.BatchNorm1d's defaults, spelled out because conv_bn relies on eps.
constexpr double kBatchNormEps = 1e-5;
constexpr double kBatchNormMomentum = 0.1;

BatchNorm batch_norm(std::int64_t channels) { return BatchNorm(channels, kBatchNormEps, kBatchNormMomentum); }

// bn(conv(x)). In evaluation mode BatchNorm is a fixed per-channel affine
// map, so it is folded into the convolution's weights: one pass over the
// (large) activations instead of two, and one allocation fewer. Folding is
// made of ordinary differentiable ops, so gradients still reach conv and bn
// parameters. Only applied where no kNN follows (a kNN could flip on
// rounding-level differences): graph_layer2, conv4 and the decoder.
onednn::FoldedConv fold_batch_norm(const nn::Conv1d& conv, const BatchNorm& bn) {
  const auto scale = bn->weight * torch::rsqrt(bn->running_var + bn->eps());
  return {conv->weight * scale.view({-1, 1, 1}), (conv->bias - bn->running_mean) * scale + bn->bias};
}

torch::Tensor conv_bn(nn::Conv1d conv, BatchNorm bn, const torch::Tensor& x, bool fold) {
  if (!fold || bn->is_training()) return bn(conv(x));
  const auto folded = fold_batch_norm(conv, bn);
  const std::int64_t padding = (conv->weight.size(2) - 1) / 2;  // "same" for k = 1 and k = 3
  return torch::conv1d(x, folded.weight, folded.bias, /*stride=*/1, padding);
}

// A bf16 convolution's output (under --precision bf16) in fp32, for a batch
// norm whose output a kNN reads: the neighbours then come from fp32
// features, as in fp32 training, and not from features rounded to bf16. Other
// batch norms keep bf16 activations (models/batch_norm.cpp).
torch::Tensor fp32(const torch::Tensor& x) { return x.scalar_type() == torch::kBFloat16 ? x.to(torch::kFloat32) : x; }

torch::Tensor neighbours(const torch::Tensor& x, std::int64_t k, bool plain) {
  return plain ? knn::knn_indices_reference(x, k) : knn::knn_indices(x, k);
}

// The type autocast would run convolutions in here: bf16 under --precision
// bf16, else fp32.
torch::ScalarType convolution_type() {
  return at::autocast::is_cpu_enabled() ? at::autocast::get_autocast_cpu_dtype() : torch::kFloat32;
}

// Whether a module of these parameters can take a direct oneDNN chain: fp32
// parameters (double models keep libtorch) and fp32 or bf16 input.
bool onednn_float_model(const torch::Tensor& weight, const torch::Tensor& x) {
  return weight.scalar_type() == torch::kFloat32 &&
         (x.scalar_type() == torch::kFloat32 || x.scalar_type() == torch::kBFloat16);
}

// Evaluation mode without gradients: what the inference chains compute.
bool inference_without_gradients(const torch::nn::Module& module) {
  return !module.is_training() && !torch::GradMode::is_enabled();
}

// ReLU of a BatchNorm output. In place unless `plain`: BatchNorm's backward
// needs its input, not its output, so overwriting the output is safe and
// saves an activation-sized allocation (Python molearn's folding layers use
// ReLU(inplace=True) for the same reason).
torch::Tensor relu_after_bn(torch::Tensor x, bool plain) { return plain ? torch::relu(x) : torch::relu_(x); }

}  // namespace

GraphLayerImpl::GraphLayerImpl(std::int64_t in_channels, std::int64_t out_channels, std::int64_t k, bool fold_bn)
    : conv(register_module("conv", pointwise_conv(in_channels, out_channels))),
      bn(register_module("bn", batch_norm(out_channels))),
      k_(k),
      fold_bn_(fold_bn) {}

torch::Tensor GraphLayerImpl::pool(const torch::Tensor& x, bool plain) {
  // As in Python molearn the neighbourhoods are a function of the features
  // but are not differentiated; the gradient flows through the max-pool.
  const std::int64_t k = std::min(k_, x.size(2));
  auto idx = neighbours(x, k, plain);
  return plain ? knn::neighbour_max_reference(x, idx) : knn::neighbour_max(x, idx);
}

torch::Tensor GraphLayerImpl::forward(const torch::Tensor& x, bool plain) {
  const auto pooled = pool(x, plain);
  // An unfolded layer's output is the next layer's kNN features: fp32.
  const auto h = fold_bn_ ? conv_bn(conv, bn, pooled, !plain) : bn(fp32(conv(pooled)));
  return relu_after_bn(h, plain);
}

EncoderImpl::EncoderImpl(std::int64_t latent_dim, std::int64_t k)
    : conv1(register_module("conv1", pointwise_conv(12, 64))),
      conv2(register_module("conv2", pointwise_conv(64, 64))),
      conv3(register_module("conv3", pointwise_conv(64, 64))),
      conv4(register_module("conv4", pointwise_conv(1024, 512))),
      conv5(register_module("conv5", pointwise_conv(512, latent_dim))),
      bn1(register_module("bn1", batch_norm(64))),
      bn2(register_module("bn2", batch_norm(64))),
      bn3(register_module("bn3", batch_norm(64))),
      bn4(register_module("bn4", batch_norm(512))),
      // graph_layer1 feeds graph_layer2's kNN, so its BatchNorm is not folded.
      graph_layer1(register_module("graph_layer1", GraphLayer(64, 128, k, /*fold_bn=*/false))),
      graph_layer2(register_module("graph_layer2", GraphLayer(128, 1024, k, /*fold_bn=*/true))),
      k_(k) {}

torch::Tensor EncoderImpl::forward(const torch::Tensor& x, bool plain) {
  const std::int64_t batch = x.size(0);
  const std::int64_t k = std::min(k_, x.size(2));

  // Local shape descriptor: covariance of each atom's xyz neighbourhood.
  auto idx = neighbours(x, k, plain);
  auto cov = plain ? knn::local_covariance_reference(x, idx) : knn::local_covariance(x, idx);
  auto h = torch::cat({x, cov}, 1);  // [B, 12, N]

  h = relu_after_bn(bn1(conv1(h)), plain);
  h = relu_after_bn(bn2(conv2(h)), plain);
  h = relu_after_bn(bn3(fp32(conv3(h))), plain);  // graph_layer1's kNN features
  h = graph_layer1->forward(h, plain);
  h = head(h, plain);
  h = std::get<0>(h.max(2, /*keepdim=*/true));  // global max-pool: [B, 512, 1]
  return conv5(h).view({batch, -1});
}

torch::Tensor EncoderImpl::head(const torch::Tensor& x, bool plain) {
  const auto& graph = *graph_layer2;
  if (!plain && use_onednn_ && onednn_float_model(conv4->weight, x) && inference_without_gradients(*this) &&
      !graph.bn->is_training() && !bn4->is_training()) {
    const std::vector<onednn::ChainLink> chain{{fold_batch_norm(graph.conv, graph.bn), /*relu=*/true},
                                               {fold_batch_norm(conv4, bn4), /*relu=*/false}};
    const auto type = convolution_type();
    const std::int64_t channels = graph.conv->weight.size(1);
    if (onednn::conv_chain_supported(channels, chain, type, type))
      return onednn::conv_chain_inference(graph_layer2->pool(x, plain), chain, type, type);
  }
  return conv_bn(conv4, bn4, graph_layer2->forward(x, plain), /*fold=*/!plain);
}

FoldingLayerImpl::FoldingLayerImpl(std::int64_t in_channels, std::int64_t hidden, std::int64_t out_channels)
    : conv1(register_module("conv1", folding_conv(in_channels, hidden))),
      conv2(register_module("conv2", folding_conv(hidden, hidden))),
      conv3(register_module("conv3", folding_conv(hidden, out_channels))),
      bn1(register_module("bn1", batch_norm(hidden))),
      bn2(register_module("bn2", batch_norm(hidden))) {}

torch::Tensor FoldingLayerImpl::forward(const torch::Tensor& x, bool plain) {
  const auto type = convolution_type();
  if (!plain && use_onednn_ && onednn_float_model(conv1->weight, x)) {
    if (is_training()) {
      // Training takes the chain in bf16 only: on MurD (2 threads) it trained
      // 1.05-1.12x as fast as libtorch's layers in bf16 but 0.89x in fp32,
      // where oneDNN's blocked batch norm costs more than the layout
      // conversions it saves (bench/README.md).
      const bool batch_statistics = x.size(0) * x.size(2) > 1;  // else batch norm's own error
      if (type == torch::kBFloat16 && batch_statistics && !bn1->has_process_group() && !bn2->has_process_group() &&
          onednn::folding_layer_supported(x.size(1), conv1->weight.size(0), conv3->weight.size(0), type))
        return onednn::folding_layer_training(x, {conv1, conv2, conv3, bn1, bn2}, type);
    } else if (inference_without_gradients(*this) && !bn1->is_training() && !bn2->is_training()) {
      // (evaluation mode with gradients keeps libtorch's layers)
      // conv3 accumulates and writes fp32, as a decoder's last layer does
      // everywhere (models/coordinates_layer.hpp says why).
      const std::vector<onednn::ChainLink> chain{{fold_batch_norm(conv1, bn1), /*relu=*/true},
                                                 {fold_batch_norm(conv2, bn2), /*relu=*/true},
                                                 {{conv3->weight, conv3->bias}, /*relu=*/false}};
      if (onednn::conv_chain_supported(x.size(1), chain, type, torch::kFloat32))
        return onednn::conv_chain_inference(x, chain, type, torch::kFloat32);
    }
  }
  auto h = relu_after_bn(conv_bn(conv1, bn1, x, /*fold=*/!plain), plain);
  h = relu_after_bn(conv_bn(conv2, bn2, h, /*fold=*/!plain), plain);
  return coordinates_layer(conv3, h, /*decoding=*/!is_training());  // fp32, as the chain's
}

DecoderLayerImpl::DecoderLayerImpl(std::int64_t in_points, std::int64_t out_points, std::int64_t in_channels,
                                   std::int64_t out_channels)
    : fold1(register_module("fold1", FoldingLayer(in_channels + 1, 512, out_channels))),
      fold2(register_module("fold2", FoldingLayer(in_channels + out_channels + 1, 512, out_channels))),
      out_points_(out_points),
      repeats_(out_points / in_points) {
  TORCH_CHECK(out_points % in_points == 0, "DecoderLayer: ", out_points, " points are not a multiple of ", in_points);
}

torch::Tensor DecoderLayerImpl::forward(const torch::Tensor& x, bool plain) {
  const std::int64_t batch = x.size(0);
  // The 1D folding grid; cheap to rebuild, and not a buffer so that state
  // dicts carry exactly the parameters Python molearn has.
  auto grid =
      torch::linspace(-0.5, 0.5, out_points_, x.options()).view({1, 1, out_points_}).expand({batch, 1, out_points_});
  auto code = x.repeat_interleave(repeats_, /*dim=*/2);  // [B, C, out_points]
  auto recon1 = fold1->forward(torch::cat({grid, code}, 1), plain);
  return recon1 + fold2->forward(torch::cat({grid, code, recon1}, 1), plain);
}

DecoderImpl::DecoderImpl(std::int64_t points, std::int64_t latent_dim) : points_(points), latent_dim_(latent_dim) {
  const std::int64_t s = points / 128 + 1;
  layer1 = register_module("layer1", DecoderLayer(1, s, latent_dim, 384));
  layer2 = register_module("layer2", DecoderLayer(s, 8 * s, 384, 48));
  layer3 = register_module("layer3", DecoderLayer(8 * s, 32 * s, 48, 12));
  layer4 = register_module("layer4", DecoderLayer(32 * s, 128 * s, 12, 3));
}

torch::Tensor DecoderImpl::forward(const torch::Tensor& z, bool plain) {
  auto h = z.view({z.size(0), latent_dim_, 1});
  h = layer1->forward(h, plain);
  h = layer2->forward(h, plain);
  h = layer3->forward(h, plain);
  h = layer4->forward(h, plain);                // [B, 3, 128 s] with 128 s > points
  return h.narrow(2, 0, points_).contiguous();  // crop to the real atoms
}

void check_config(const ModelConfig& config, const std::string& model) {
  if (config.atoms < 2)
    throw InputError(model + " needs at least 2 atoms per structure, got " + std::to_string(config.atoms));
  if (config.latent_dim < 1)
    throw InputError(model + " needs latent_dim >= 1, got " + std::to_string(config.latent_dim));
  if (config.knn < 1) throw InputError(model + " needs knn >= 1, got " + std::to_string(config.knn));
}

// Python molearn hard-codes k = 16 and so fails on tiny systems; capping k at
// the atom count keeps them usable (with k = N every atom sees all).
std::int64_t encoder_knn(const ModelConfig& config) { return std::min(config.knn, config.atoms); }

void check_coordinates(const torch::Tensor& x, std::int64_t atoms, const std::string& model) {
  if (x.dim() != 3 || x.size(0) < 1 || x.size(1) != 3 || x.size(2) != atoms) {
    std::string shape = "[";
    for (std::int64_t d = 0; d < x.dim(); ++d) shape += (d ? ", " : "") + std::to_string(x.size(d));
    throw InputError(model + " expects coordinates [B, 3, " + std::to_string(atoms) + "], got " + shape + "]");
  }
}

void check_latent_codes(const torch::Tensor& z, std::int64_t latent_dim, const std::string& model) {
  if (z.dim() != 2 || z.size(0) < 1 || z.size(1) != latent_dim)
    throw InputError(model + " expects latent codes [B, " + std::to_string(latent_dim) + "]");
}

std::size_t set_onednn_folding(torch::nn::Module& model, bool on) {
  std::size_t layers = 0;
  for (const auto& module : model.modules(/*include_self=*/true))
    if (auto* layer = dynamic_cast<FoldingLayerImpl*>(module.get())) {
      layer->set_onednn(on);
      ++layers;
    } else if (auto* encoder = dynamic_cast<EncoderImpl*>(module.get())) {
      encoder->set_onednn(on);
    }
  return layers;
}

}  // namespace foldingnet

FoldingNetImpl::FoldingNetImpl(const ModelConfig& config) : config_(config) {
  foldingnet::check_config(config, "FoldingNet");
  encoder_ = register_module("encoder", foldingnet::Encoder(config.latent_dim, foldingnet::encoder_knn(config)));
  decoder_ = register_module("decoder", foldingnet::Decoder(config.atoms, config.latent_dim));
}

torch::Tensor FoldingNetImpl::encode(torch::Tensor x) {
  foldingnet::check_coordinates(x, config_.atoms, "FoldingNet");
  return encoder_->forward(x, plain_);
}

torch::Tensor FoldingNetImpl::decode(torch::Tensor z) {
  foldingnet::check_latent_codes(z, config_.latent_dim, "FoldingNet");
  return decoder_->forward(z, plain_);
}

}  // namespace molearn
