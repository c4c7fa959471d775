#include "molearn/models/siren.hpp"

#include <cmath>
#include <map>
#include <string>

#include "molearn/core/error.hpp"
#include "molearn/models/coordinates_layer.hpp"

namespace molearn {

namespace siren_detail {

namespace {

// SIREN's initialisation (Sitzmann et al., section 3.2): keeps the sine
// layers' pre-activations distributed alike through depth.
torch::nn::Linear sine_layer(std::int64_t in, std::int64_t out, double bound) {
  torch::nn::Linear layer(in, out);
  const torch::NoGradGuard no_grad;
  layer->weight.uniform_(-bound, bound);
  return layer;
}

}  // namespace

DecoderImpl::DecoderImpl(std::int64_t in, std::int64_t hidden, double w0) : w0_(w0) {
  const double later = std::sqrt(6.0 / static_cast<double>(hidden)) / w0;
  layer1 = register_module("layer1", sine_layer(in, hidden, 1.0 / static_cast<double>(in)));
  layer2 = register_module("layer2", sine_layer(hidden, hidden, later));
  layer3 = register_module("layer3", sine_layer(hidden, hidden, later));
  layer4 = register_module("layer4", sine_layer(hidden, 3, later));
}

torch::Tensor DecoderImpl::forward(const torch::Tensor& h) {
  auto x = torch::sin(w0_ * layer1->forward(h));
  x = torch::sin(w0_ * layer2->forward(x));
  x = torch::sin(w0_ * layer3->forward(x));
  return coordinates_layer(layer4, x, /*decoding=*/!is_training());
}

}  // namespace siren_detail

namespace {

void validate(const ModelConfig& c) {
  if (c.atoms < 1 || c.latent_dim < 1)
    throw InputError("siren: atoms and latent dimension must be >= 1, got " + std::to_string(c.atoms) + " and " +
                     std::to_string(c.latent_dim));
  if (c.siren_hidden < 1 || c.siren_hidden > 8192)
    throw InputError("siren: hidden width must be 1 to 8192, got " + std::to_string(c.siren_hidden));
  if (!(c.siren_w0 > 0) || !std::isfinite(c.siren_w0))
    throw InputError("siren: w0 must be a finite number > 0, got " + std::to_string(c.siren_w0));
  if (!c.atom_names.empty() && static_cast<std::int64_t>(c.atom_names.size()) != c.atoms)
    throw InputError("siren: " + std::to_string(c.atom_names.size()) + " atom names for " + std::to_string(c.atoms) +
                     " atoms");
}

// Transformers' sin/cos encoding of the atom index: [atoms, dims].
torch::Tensor positional_encoding(std::int64_t atoms, std::int64_t dims) {
  const auto position = torch::arange(atoms, torch::kFloat64).unsqueeze(1);
  const auto frequency = torch::exp(torch::arange(0, dims, 2, torch::kFloat64) * (-std::log(10000.0) / dims));
  auto encoding = torch::zeros({atoms, dims}, torch::kFloat64);
  encoding.slice(1, 0, dims, 2) = torch::sin(position * frequency);
  encoding.slice(1, 1, dims, 2) = torch::cos(position * frequency);
  return encoding.to(torch::kFloat32);
}

// One-hot of the atom names, the names in sorted order: [atoms, types].
torch::Tensor atom_encoding(const std::vector<std::string>& names) {
  std::map<std::string, std::int64_t> types;
  for (const auto& name : names) types.emplace(name, 0);
  std::int64_t next = 0;
  for (auto& [name, index] : types) index = next++;
  auto encoding = torch::zeros({static_cast<std::int64_t>(names.size()), next});
  for (std::size_t i = 0; i < names.size(); ++i) encoding[static_cast<std::int64_t>(i)][types.at(names[i])] = 1.0;
  return encoding;
}

}  // namespace

SirenImpl::SirenImpl(const ModelConfig& config) : config_(config) {
  validate(config_);
  auto encoding = positional_encoding(config_.atoms, kPositionalEncoding);
  if (!config_.atom_names.empty()) encoding = torch::cat({encoding, atom_encoding(config_.atom_names)}, 1);
  encoding_ = register_buffer("encoding", encoding);
  decoder_ = register_module(
      "decoder", siren_detail::Decoder(encoding_.size(1) + config_.latent_dim, config_.siren_hidden, config_.siren_w0));
}

torch::Tensor SirenImpl::decode(torch::Tensor z) {
  if (z.dim() != 2 || z.size(1) != config_.latent_dim)
    throw InputError("siren: latent codes must be [batch, " + std::to_string(config_.latent_dim) + "], got " +
                     std::to_string(z.dim()) + " dimensions");
  const std::int64_t batch = z.size(0), atoms = config_.atoms;
  const auto input = torch::cat({encoding_.unsqueeze(0).expand({batch, atoms, encoding_.size(1)}),
                                 z.unsqueeze(1).expand({batch, atoms, config_.latent_dim})},
                                2);
  return decoder_->forward(input).permute({0, 2, 1});
}

torch::Tensor SirenImpl::encode(torch::Tensor x) {
  if (x.dim() != 3 || x.size(1) != 3 || x.size(2) != config_.atoms)
    throw InputError("siren: structures must be [batch, 3, " + std::to_string(config_.atoms) + "]");
  // The graph of the step is kept only when the caller trains through it.
  const bool training = torch::GradMode::is_enabled();
  const torch::AutoGradMode grad_on(true);
  const auto origin = torch::zeros({x.size(0), config_.latent_dim}, x.options()).requires_grad_();
  // Each structure's own loss (mean over its atoms), summed: its code does
  // not depend on the batch it is encoded in. Python molearn takes the mean
  // over the batch too, which divides every code by the batch size, so a
  // structure encoded alone (generate, scan) gets another code than in the
  // training batches.
  const auto inner = (decode(origin) - x).pow(2).sum(1).mean(1).sum();
  auto step = torch::autograd::grad({inner}, {origin}, {}, training, training)[0];
  return training ? -step : -step.detach();
}

}  // namespace molearn
