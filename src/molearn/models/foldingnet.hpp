// FoldingNet-style graph autoencoder, as used by Python molearn.
//
// Architecture (identical to molearn.models.foldingnet.AutoEncoder, with the
// latent size and neighbour count taken from ModelConfig):
//   encoder: kNN (k = min(config.knn, N), squared Euclidean, self included)
//     over xyz -> per point, C = Y^T Y of its k neighbours' centred xyz Y
//     (not divided by k), row-major -> [x; C] (12 channels) -> three 1x1
//     conv+BN+ReLU (64) -> two graph layers (kNN in feature space, max over
//     the k neighbours per channel, 1x1 conv+BN+ReLU; 128 then 1024) -> 1x1
//     conv+BN (512) -> max over points -> 1x1 conv -> [B, latent_dim].
//   decoder: z viewed as [B, latent_dim, 1], then four decoder layers
//     (points in -> out, channels C -> c): 1 -> s, latent -> 384; s -> 8s,
//     384 -> 48; 8s -> 32s, 48 -> 12; 32s -> 128s, 12 -> 3 (s = N / 128 + 1).
//     Each layer: code = repeat_interleave(x, out / in, dim 2); grid =
//     linspace(-0.5, 0.5, out) as one channel; recon1 = fold1([grid; code]);
//     result = recon1 + fold2([grid; code; recon1]). The [B, 3, 128s] result
//     is cropped to the first N points.
//   Near-ties in a kNN may be ranked differently from Python molearn, whose
//   float formula -|a|^2 + 2a.b - |b|^2 rounds differently (xyz distances
//   are exact here), so on big proteins the two encoders can differ
//   slightly; the decoder has no such discontinuity.
//
// Parameter and buffer names (state_dict keys). Every BatchNorm "bn*" has
// weight, bias, running_mean, running_var and num_batches_tracked; every
// conv has weight and bias.
//   encoder.conv1  Conv1d(12, 64, 1)       encoder.bn1  BatchNorm1d(64)
//   encoder.conv2  Conv1d(64, 64, 1)       encoder.bn2  BatchNorm1d(64)
//   encoder.conv3  Conv1d(64, 64, 1)       encoder.bn3  BatchNorm1d(64)
//   encoder.graph_layer1.conv  Conv1d(64, 128, 1)    encoder.graph_layer1.bn  BatchNorm1d(128)
//   encoder.graph_layer2.conv  Conv1d(128, 1024, 1)  encoder.graph_layer2.bn  BatchNorm1d(1024)
//   encoder.conv4  Conv1d(1024, 512, 1)    encoder.bn4  BatchNorm1d(512)
//   encoder.conv5  Conv1d(512, latent_dim, 1)
//   decoder.layer{L}.fold{F}.conv1  Conv1d(in, 512, 3, padding 1)   .bn1  BatchNorm1d(512)
//   decoder.layer{L}.fold{F}.conv2  Conv1d(512, 512, 3, padding 1)  .bn2  BatchNorm1d(512)
//   decoder.layer{L}.fold{F}.conv3  Conv1d(512, out, 3, padding 1)
//   for L = 1..4 with (C, out) = (latent_dim, 384), (384, 48), (48, 12), (12, 3)
//   and in = C + 1 for fold1, C + out + 1 for fold2.
// Python molearn keeps each FoldingLayer in an nn.Sequential "layers", so its
// names map as fold{F}.layers.{0,1,3,4,6} = fold{F}.{conv1,bn1,conv2,bn2,conv3};
// everything else has the same name. The decoder grids are recomputed, not
// stored, so there are no other buffers.
//
// The BatchNorms are molearn::BatchNorm (same names and numerics as
// torch::nn::BatchNorm1d) so that data-parallel training normalises with
// statistics over the global batch.
#pragma once

#include "molearn/models/autoencoder.hpp"
#include "molearn/models/batch_norm.hpp"

namespace molearn {

namespace foldingnet {

// The submodules' forward take `plain`: true runs the plain-libtorch
// formulation (dense kNN, gather, unfused BatchNorm, out-of-place ReLU) that
// FoldingNetImpl::set_reference_kernels selects.

// max over feature-space neighbours, then 1x1 conv + BN + ReLU
class GraphLayerImpl : public torch::nn::Module {
 public:
  // fold_bn: fold BatchNorm into the conv in evaluation mode (only where no
  // kNN follows, so rounding cannot change a neighbourhood).
  GraphLayerImpl(std::int64_t in_channels, std::int64_t out_channels, std::int64_t k, bool fold_bn);
  torch::Tensor forward(const torch::Tensor& x, bool plain);
  // The max over feature-space neighbours alone: [B, in_channels, N].
  torch::Tensor pool(const torch::Tensor& x, bool plain);

  torch::nn::Conv1d conv{nullptr};
  BatchNorm bn{nullptr};

 private:
  std::int64_t k_;
  bool fold_bn_;
};
TORCH_MODULE(GraphLayer);

class EncoderImpl : public torch::nn::Module {
 public:
  EncoderImpl(std::int64_t latent_dim, std::int64_t k);
  // [B, 3, N] -> [B, latent_dim]
  torch::Tensor forward(const torch::Tensor& x, bool plain);
  // Unless `plain`, graph_layer2's convolution and conv4 run as one oneDNN
  // chain (models/onednn_conv_chain.hpp) in evaluation mode without
  // gradients; set_onednn(false) keeps libtorch's layers.
  void set_onednn(bool on) { use_onednn_ = on; }

  torch::nn::Conv1d conv1{nullptr}, conv2{nullptr}, conv3{nullptr}, conv4{nullptr}, conv5{nullptr};
  BatchNorm bn1{nullptr}, bn2{nullptr}, bn3{nullptr}, bn4{nullptr};
  GraphLayer graph_layer1{nullptr}, graph_layer2{nullptr};

 private:
  // graph_layer2 then conv4 + bn4: [B, 128, N] -> [B, 512, N]
  torch::Tensor head(const torch::Tensor& x, bool plain);

  std::int64_t k_;
  bool use_onednn_ = true;
};
TORCH_MODULE(Encoder);

// conv1+bn1+ReLU, conv2+bn2+ReLU, conv3; all k=3, padding 1
class FoldingLayerImpl : public torch::nn::Module {
 public:
  FoldingLayerImpl(std::int64_t in_channels, std::int64_t hidden, std::int64_t out_channels);
  // Unless `plain`, the layer runs as one oneDNN chain where oneDNN supports
  // it and it was measured faster: decoding (evaluation mode without
  // gradients) in fp32 and bf16 (models/onednn_conv_chain.hpp), training
  // under bf16 autocast (models/folding_layer_onednn.hpp). set_onednn(false)
  // keeps libtorch's layers throughout.
  torch::Tensor forward(const torch::Tensor& x, bool plain);
  void set_onednn(bool on) { use_onednn_ = on; }

  torch::nn::Conv1d conv1{nullptr}, conv2{nullptr}, conv3{nullptr};
  BatchNorm bn1{nullptr}, bn2{nullptr};

 private:
  bool use_onednn_ = true;
};
TORCH_MODULE(FoldingLayer);

// [B, C, in_points] -> [B, out_channels, out_points]
class DecoderLayerImpl : public torch::nn::Module {
 public:
  DecoderLayerImpl(std::int64_t in_points, std::int64_t out_points, std::int64_t in_channels,
                   std::int64_t out_channels);
  torch::Tensor forward(const torch::Tensor& x, bool plain);

  FoldingLayer fold1{nullptr}, fold2{nullptr};

 private:
  std::int64_t out_points_, repeats_;
};
TORCH_MODULE(DecoderLayer);

class DecoderImpl : public torch::nn::Module {
 public:
  DecoderImpl(std::int64_t points, std::int64_t latent_dim);
  // [B, latent_dim] -> [B, 3, points]
  torch::Tensor forward(const torch::Tensor& z, bool plain);

  DecoderLayer layer1{nullptr}, layer2{nullptr}, layer3{nullptr}, layer4{nullptr};

 private:
  std::int64_t points_, latent_dim_;
};
TORCH_MODULE(Decoder);

// Shared by the models built from these pieces (FoldingNetImpl,
// SmallFoldingNetImpl); `model` names the model in error messages.
// Throws InputError if config.atoms < 2, latent_dim < 1 or knn < 1.
void check_config(const ModelConfig& config, const std::string& model);
// The encoder's neighbour count: config.knn capped at the atom count.
std::int64_t encoder_knn(const ModelConfig& config);
// Throws InputError unless x is [B, 3, atoms].
void check_coordinates(const torch::Tensor& x, std::int64_t atoms, const std::string& model);
// Benchmarks and tests: every folding layer of `model`, and its encoder's
// last layers, on the oneDNN chains (on, the default) or on libtorch's
// layers. Returns how many folding layers it set.
std::size_t set_onednn_folding(torch::nn::Module& model, bool on);
// Throws InputError unless z is [B, latent_dim].
void check_latent_codes(const torch::Tensor& z, std::int64_t latent_dim, const std::string& model);

}  // namespace foldingnet

class FoldingNetImpl : public AutoencoderImpl {
 public:
  // Throws InputError if config.atoms < 2, latent_dim < 1 or knn < 1.
  explicit FoldingNetImpl(const ModelConfig& config);
  // Throws InputError unless x is [B, 3, config.atoms].
  torch::Tensor encode(torch::Tensor x) override;
  // Throws InputError unless z is [B, latent_dim].
  torch::Tensor decode(torch::Tensor z) override;
  const ModelConfig& config() const override { return config_; }

  // Benchmarks and tests only: compute the same function the plain libtorch
  // way, as Python molearn does (dense distances + topk + gather instead of
  // the fused kernels of knn.hpp; BatchNorm never folded; ReLU out of
  // place). Same parameters, same results up to rounding.
  void set_reference_kernels(bool on) { plain_ = on; }

 private:
  ModelConfig config_;
  foldingnet::Encoder encoder_{nullptr};
  foldingnet::Decoder decoder_{nullptr};
  bool plain_ = false;
};
TORCH_MODULE(FoldingNet);

}  // namespace molearn
