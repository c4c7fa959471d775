// The Sinkhorn trainer's batch step and validation (--trainer sinkhorn).
//
// As in Python molearn's Sinkhorn_Trainer, the decoder is trained as a
// generator: latent points drawn from N(0, I) are decoded and the batch of
// decoded structures is pulled towards the batch of frames by the Sinkhorn
// divergence; the physics loss, when on, scores structures between those
// samples. Python molearn leaves the encoder untrained, so its models cannot
// place a structure on the latent map. Here the encoder learns to invert the
// decoder: it is fitted to the reconstruction error through the decoder in
// eval mode, with the decoder's weights held (no gradient reaches them), so
// the decoder stays purely Sinkhorn-trained and `scan`, `path` and the GUI
// still work.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <functional>
#include <random>

#include "molearn/train/train_options.hpp"

namespace molearn {

// `count` latent points [count, dim] from N(0, I), drawn from `rng`: what the
// trainer decodes and what `generate --sample` decodes.
torch::Tensor standard_normal_latents(std::mt19937_64& rng, std::int64_t count, std::int64_t dim);

class SinkhornTraining {
 public:
  using Model = std::function<torch::Tensor(const torch::Tensor&)>;

  SinkhornTraining(const SinkhornOptions& options, std::int64_t latent_dim, std::uint64_t seed);

  // `count` latent points from N(0, I), drawn from `rng` (the run's
  // generator, saved in checkpoints: a resumed run draws what it would have).
  torch::Tensor prior_sample(std::mt19937_64& rng, std::int64_t count) const;

  // The generator's loss for a batch `x` [B, 3, N]: the divergence between
  // decode(prior) and x, with gradient to the decoder.
  torch::Tensor divergence(const Model& decode, const torch::Tensor& prior, const torch::Tensor& x) const;

  struct EncoderFit {
    torch::Tensor mse;        // reconstruction MSE of x, no gradient (for the log)
    torch::Tensor surrogate;  // a scalar whose gradient is the MSE's gradient for the encoder's weights only
  };
  // The encoder's loss: MSE(decode(encode(x)), x), its gradient stopped at
  // the latent code so that it reaches the encoder and not the decoder.
  // `decode` should be the decoder in eval mode, as it is used afterwards:
  // its batch norm then normalises with the statistics of prior samples.
  EncoderFit encoder_fit(const Model& encode, const Model& decode, const torch::Tensor& x) const;

  // The divergence between structures decoded (by `decode`, no gradient,
  // e.g. in eval mode) from a fixed set of prior samples and `frames`: the
  // same samples every epoch, so that epochs compare. At least 16 samples,
  // as many as there are frames, decoded `chunk` at a time.
  double validation_divergence(const Model& decode, const torch::Tensor& frames, std::int64_t chunk);

  // The most validation frames validation_divergence compares with: a
  // fixed, evenly spread subset of larger validation sets.
  static constexpr std::int64_t kMaxValidationFrames = 512;

 private:
  SinkhornOptions options_;
  std::int64_t latent_dim_;
  std::uint64_t seed_;
  torch::Tensor validation_prior_;  // drawn on first use, then fixed
};

}  // namespace molearn
