// The small FoldingNet of Python molearn (molearn.models.small_foldingnet.
// Small_AutoEncoder): FoldingNet's graph encoder with a two-stage folding
// decoder instead of four stages, 4.6 M parameters instead of 10.4 M (latent
// size 2; neither depends on the atom count).
//
// Architecture (the latent size and neighbour count taken from ModelConfig):
//   encoder: foldingnet::Encoder, exactly FoldingNetImpl's (foldingnet.hpp):
//     kNN local covariances -> three 1x1 conv+BN+ReLU (64) -> two graph
//     layers (128, 1024) -> 1x1 conv+BN (512) -> max over points -> 1x1 conv
//     -> [B, latent_dim].
//   decoder: z viewed as [B, latent_dim, 1], then two foldingnet::DecoderLayer
//     (points in -> out, channels C -> c):
//       layer1: 1 -> s, latent_dim -> 96;  layer2: s -> 8s, 96 -> 3
//     with s = N / 8 + 1, each as in FoldingNet (repeat the code, append a
//     linspace(-0.5, 0.5) grid channel, fold twice with 512-channel k=3
//     folding layers, the second refining the first). The [B, 3, 8s] result
//     is cropped to the first N points (Python molearn's trainer crops it).
//   Python molearn's decoder takes its input channels from a keyword
//   `in_channel` (default 2) and views z as [B, 2, 1] whatever the latent
//   size, so there it only works with a 2-D latent space; here the decoder's
//   input channels are latent_dim, which is the same model for latent size 2.
//   The same file's Big_Skinny_Decoder is used by no model (and cannot be
//   built in Python molearn), so it has no counterpart here.
//
// Parameter and buffer names (state_dict keys): the encoder's are
// FoldingNet's (encoder.conv1 ... encoder.conv5, encoder.bn1 ... bn4,
// encoder.graph_layer{1,2}.{conv,bn}); the decoder's are
//   decoder.layer{L}.fold{F}.conv1  Conv1d(in, 512, 3, padding 1)   .bn1  BatchNorm1d(512)
//   decoder.layer{L}.fold{F}.conv2  Conv1d(512, 512, 3, padding 1)  .bn2  BatchNorm1d(512)
//   decoder.layer{L}.fold{F}.conv3  Conv1d(512, out, 3, padding 1)
//   for L = 1, 2 with (C, out) = (latent_dim, 96), (96, 3)
//   and in = C + 1 for fold1, C + out + 1 for fold2.
// As for FoldingNet, Python molearn's fold{F}.layers.{0,1,3,4,6} are
// fold{F}.{conv1,bn1,conv2,bn2,conv3}; everything else has the same name, and
// there are no buffers but the BatchNorm statistics.
#pragma once

#include "molearn/models/autoencoder.hpp"
#include "molearn/models/foldingnet.hpp"

namespace molearn {

namespace small_foldingnet {

class DecoderImpl : public torch::nn::Module {
 public:
  DecoderImpl(std::int64_t points, std::int64_t latent_dim);
  // [B, latent_dim] -> [B, 3, points]; `plain` as for foldingnet::DecoderImpl
  torch::Tensor forward(const torch::Tensor& z, bool plain);

  foldingnet::DecoderLayer layer1{nullptr}, layer2{nullptr};

 private:
  std::int64_t points_, latent_dim_;
};
TORCH_MODULE(Decoder);

}  // namespace small_foldingnet

class SmallFoldingNetImpl : public AutoencoderImpl {
 public:
  // Throws InputError if config.atoms < 2, latent_dim < 1 or knn < 1.
  explicit SmallFoldingNetImpl(const ModelConfig& config);
  // Throws InputError unless x is [B, 3, config.atoms].
  torch::Tensor encode(torch::Tensor x) override;
  // Throws InputError unless z is [B, latent_dim].
  torch::Tensor decode(torch::Tensor z) override;
  const ModelConfig& config() const override { return config_; }

  // Benchmarks and tests only: the plain-libtorch formulation, as
  // FoldingNetImpl::set_reference_kernels.
  void set_reference_kernels(bool on) { plain_ = on; }

 private:
  ModelConfig config_;
  foldingnet::Encoder encoder_{nullptr};
  small_foldingnet::Decoder decoder_{nullptr};
  bool plain_ = false;
};
TORCH_MODULE(SmallFoldingNet);

}  // namespace molearn
