// `--model cnn2d-dm`: a 2-D convolutional autoencoder on the distance matrix
// (the model of Python molearn's CNN2d_AE / DistanceMatrix_AE, here with a
// decoder that decodes distances, as issue 18 asks, rather than coordinates).
//
// The encoder sees the structure's N x N inter-atomic distance matrix, so
// its code does not change when the structure is rotated or translated. The
// decoder produces an N x N distance matrix; the coordinates come from it by
// metric multidimensional scaling (SMACOF, de Leeuw 1977: repeated Guttman
// transforms, each one lowering the stress sum (D_ij - |x_i - x_j|)^2),
// started from a reference structure (a training frame, in the dataset's
// aligned frame). Starting there does two things classical MDS would need
// extra steps for: the structure comes out in the dataset's frame, and with
// the reference's chirality (a distance matrix cannot tell a structure from
// its mirror image; the iterations stay in the basin of the reference, not of
// its mirror). The iterations are unrolled, so training reaches the decoder
// through them.
//
// Sizes (N atoms, latent size L, c_l = min(round(init_channels *
// channel_growth^l), 256)): the encoder halves the side (Conv2d kernel 4,
// stride 2, padding 1) while it is >= 8, giving sides d_0 = N, d_1 = N/2, ..,
// d_K in 4..7; level l has c_l channels.
//
//   input [B, 3, N] -> distances [B, 1, N, N]
//   down<l>   Conv2d(c_{l-1} -> c_l, 4, stride 2, padding 1), BatchNorm, LeakyReLU(0.1); c_{-1} = 1
//   mean over the d_K x d_K map -> enc_fc Linear(c_{K-1} -> L)               -> z [B, L]
//
//   dec_fc    Linear(L -> c_{K-1} * d_K^2), viewed as [B, c_{K-1}, d_K, d_K]
//   up<k>     ConvTranspose2d(c_l -> c_{l-1}, 4, stride 2, padding 1, output padding d_l - 2 d_{l+1}),
//             BatchNorm, LeakyReLU(0.1), for l = K-1 .. 1
//   head      ConvTranspose2d(c_0 -> 1, ...) to [B, 1, N, N]
//   distances softplus of the symmetrised map, 0 on the diagonal (never read by MDS)
//   SMACOF    mds_iterations Guttman transforms from the buffer `reference` [3, N] -> [B, 3, N]
//
// Memory grows with N^2: check_trainable refuses more atoms than fit in
// kMaxTrainingBytesPerStructure in a training step of the autoencoder
// trainer (a Sinkhorn or physics step decodes more and needs up to about
// twice that), and says how many it would take (select fewer atoms, e.g.
// `prepare --atoms CA`). Loading and decoding need far less, so the
// constructor does not refuse.
#pragma once

#include <vector>

#include "molearn/models/autoencoder.hpp"
#include "molearn/models/batch_norm.hpp"

namespace molearn {

// The sides and channels of each level (see above), shared by the model and
// its TorchScript export.
struct DistanceMatrixLayout {
  std::vector<std::int64_t> sides;     // d_0 = N, d_1, .., d_K
  std::vector<std::int64_t> channels;  // c_0 .. c_{K-1}
  // Bytes a structure takes in a training step, roughly: the activations
  // autograd keeps for every level and every MDS iteration.
  double training_bytes_per_structure = 0;
};
// Throws InputError for unusable sizes (fewer than 8 atoms, channel or MDS
// options out of range).
DistanceMatrixLayout distance_matrix_layout(const ModelConfig& config);

namespace dm_detail {

// Conv2d (or ConvTranspose2d), molearn::BatchNorm, LeakyReLU(0.1).
class LevelImpl : public torch::nn::Module {
 public:
  // output_padding is used by the transposed (upsampling) convolution only.
  LevelImpl(bool upsample, std::int64_t in_channels, std::int64_t out_channels, std::int64_t output_padding);
  torch::Tensor forward(torch::Tensor x);

 private:
  torch::nn::Conv2d down_{nullptr};
  torch::nn::ConvTranspose2d up_{nullptr};
  BatchNorm bn_{nullptr};  // statistics span processes in data-parallel runs
};
TORCH_MODULE(Level);

}  // namespace dm_detail

// [B, N, 3] -> [B, N, N] Euclidean distances by the Gram matrix. Squared
// distances are held at >= 1e-12 so that the square root's gradient stays
// finite; the diagonal is rounding noise (about 1e-3 of the coordinates'
// size in fp32), which callers mask.
torch::Tensor pairwise_distances(const torch::Tensor& points);

// Metric MDS by SMACOF: `iterations` Guttman transforms of `start` [N, 3]
// towards the target distances [B, N, N]. Returns [B, N, 3], centred.
torch::Tensor smacof(const torch::Tensor& distances, const torch::Tensor& start, std::int64_t iterations);

class DistanceMatrixAutoencoderImpl : public AutoencoderImpl {
 public:
  static constexpr double kMaxTrainingBytesPerStructure = 512.0 * (1 << 20);

  explicit DistanceMatrixAutoencoderImpl(const ModelConfig& config);
  torch::Tensor encode(torch::Tensor x) override;
  torch::Tensor decode(torch::Tensor z) override;
  // [B, latent] -> [B, N, N], the decoded distances (scaled units).
  torch::Tensor decode_distances(const torch::Tensor& z);
  // The reference becomes `structure` [1, 3, N] (a training frame).
  void initialise_with_example(const torch::Tensor& structure) override;
  // The memory bound (see above), with the numbers in the message.
  void check_trainable() const override;
  bool needs_aligned_frames() const override { return true; }
  const ModelConfig& config() const override { return config_; }

 private:
  ModelConfig config_;
  DistanceMatrixLayout layout_;
  torch::Tensor reference_;  // [3, N]: where MDS starts
  std::vector<dm_detail::Level> down_;
  torch::nn::Linear enc_fc_{nullptr};
  torch::nn::Linear dec_fc_{nullptr};
  std::vector<dm_detail::Level> up_;
  torch::nn::ConvTranspose2d head_{nullptr};
};
TORCH_MODULE(DistanceMatrixAutoencoder);

}  // namespace molearn
