#include "molearn/train/sinkhorn_training.hpp"

#include <algorithm>
#include <vector>

#include "molearn/core/random.hpp"
#include "molearn/train/sinkhorn_divergence.hpp"

namespace molearn {

SinkhornTraining::SinkhornTraining(const SinkhornOptions& options, std::int64_t latent_dim, std::uint64_t seed)
    : options_(options), latent_dim_(latent_dim), seed_(seed) {}

torch::Tensor standard_normal_latents(std::mt19937_64& rng, std::int64_t count, std::int64_t dim) {
  const std::vector<double> values = standard_normals(static_cast<std::size_t>(count * dim), rng);
  return torch::tensor(values, torch::kFloat64).reshape({count, dim}).to(torch::kFloat32);
}

torch::Tensor SinkhornTraining::prior_sample(std::mt19937_64& rng, std::int64_t count) const {
  return standard_normal_latents(rng, count, latent_dim_);
}

torch::Tensor SinkhornTraining::divergence(const Model& decode, const torch::Tensor& prior,
                                           const torch::Tensor& x) const {
  const auto decoded = decode(prior);
  return sinkhorn_divergence(decoded.flatten(1), x.flatten(1), options_);
}

SinkhornTraining::EncoderFit SinkhornTraining::encoder_fit(const Model& encode, const Model& decode,
                                                           const torch::Tensor& x) const {
  const auto z = encode(x);
  const auto held = z.detach().requires_grad_();
  const auto mse = torch::mse_loss(decode(held), x);
  // d MSE / d z through the decoder, without accumulating into its weights;
  // (z * that).sum() then has the MSE's gradient for everything before z.
  const auto grad_z = torch::autograd::grad({mse}, {held})[0];
  return {mse.detach(), (z * grad_z).sum()};
}

double SinkhornTraining::validation_divergence(const Model& decode, const torch::Tensor& frames, std::int64_t chunk) {
  const torch::NoGradGuard no_grad;
  if (!validation_prior_.defined()) {
    // Its own generator: the same samples in a resumed run and in any epoch.
    std::mt19937_64 rng(seed_ ^ 0x5eedf00dULL);
    validation_prior_ = prior_sample(rng, std::max<std::int64_t>(16, frames.size(0)));
  }
  // Decoded a chunk at a time: a decoder's activations for hundreds of
  // structures of a large protein would not fit in memory at once.
  std::vector<torch::Tensor> decoded;
  const std::int64_t n = validation_prior_.size(0);
  for (std::int64_t first = 0; first < n; first += chunk)
    decoded.push_back(decode(validation_prior_.slice(0, first, std::min(n, first + chunk))).flatten(1));
  return sinkhorn_divergence(torch::cat(decoded), frames.flatten(1), options_).item<double>();
}

}  // namespace molearn
