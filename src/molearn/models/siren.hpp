// Python molearn's SIREN model (molearn.models.siren.AutoEncoder): a gradient
// origin network (Bond-Taylor & Willcocks, ICLR 2021) with a SIREN decoder
// (Sitzmann et al., NeurIPS 2020). It has no encoder network: the latent
// code of a structure is one gradient step from the origin,
//   z = -d/dz [ mean over atoms of |decode(z) - x|^2 ] at z = 0
// (per structure; Python molearn also averages over the batch, see encode),
// taken with the graph kept during training (create_graph), so that the
// decoder learns to make that step a good encoding.
//
// Architecture (latent size L, N atoms, hidden width H = siren_hidden):
//   each atom's input: [positional encoding (32: sin/cos of the atom index,
//   as in transformers), one-hot of its atom name (when the config has
//   atom_names), z] -> SineLayer(in, H) -> SineLayer(H, H) -> SineLayer(H, H)
//   -> Linear(H, 3); SineLayer(x) = sin(w0 * Linear(x)), w0 = siren_w0 (30).
//   SIREN's initialisation: first layer's weights uniform in +-1/in, the
//   others' in +-sqrt(6/in)/w0.
// State dict: decoder.layer{1,2,3,4}.{weight,bias} and the buffer `encoding`
// [N, 32 + types], as in Python molearn (there: decoder.model.{0..3}.linear).
#pragma once

#include "molearn/models/autoencoder.hpp"

namespace molearn {

namespace siren_detail {

// The SIREN: [..., in] -> [..., 3].
class DecoderImpl : public torch::nn::Module {
 public:
  DecoderImpl(std::int64_t in, std::int64_t hidden, double w0);
  torch::Tensor forward(const torch::Tensor& h);

  torch::nn::Linear layer1{nullptr}, layer2{nullptr}, layer3{nullptr}, layer4{nullptr};

 private:
  double w0_;
};
TORCH_MODULE(Decoder);

}  // namespace siren_detail

class SirenImpl : public AutoencoderImpl {
 public:
  static constexpr std::int64_t kPositionalEncoding = 32;

  // Throws InputError if config.atoms < 1, latent_dim < 1, siren_hidden < 1,
  // siren_w0 not > 0, or atom_names given but not one per atom.
  explicit SirenImpl(const ModelConfig& config);
  // [B, 3, atoms] -> [B, latent_dim]: the gradient step from the origin.
  // Differentiable to second order when grad mode is on (training); runs
  // its inner gradient under no_grad too (then returns a plain tensor).
  torch::Tensor encode(torch::Tensor x) override;
  // [B, latent_dim] -> [B, 3, atoms]
  torch::Tensor decode(torch::Tensor z) override;
  const ModelConfig& config() const override { return config_; }

 private:
  ModelConfig config_;
  torch::Tensor encoding_;  // [atoms, 32 + atom types]
  siren_detail::Decoder decoder_{nullptr};
};
TORCH_MODULE(Siren);

}  // namespace molearn
