#include "molearn/models/distance_matrix_autoencoder.hpp"

#include <ATen/autocast_mode.h>

#include <algorithm>
#include <cmath>
#include <sstream>
#include <string>

#include "molearn/core/error.hpp"

namespace molearn {

namespace {

constexpr std::int64_t kMinSide = 8;  // levels halve the side while it is at least this
constexpr std::int64_t kMaxChannels = 256;
constexpr std::int64_t kMaxMdsIterations = 1000;
constexpr double kLeakySlope = 0.1;

[[noreturn]] void fail(const std::string& what) { throw InputError("cnn2d-dm: " + what); }

std::string mebibytes(double bytes) { return std::to_string(static_cast<long long>(std::ceil(bytes / (1 << 20)))); }

// MDS runs in fp32 whatever the caller's autocast: distances from a Gram
// matrix in bfloat16 lose the bond lengths to cancellation.
class Fp32Scope {
 public:
  Fp32Scope() : was_enabled_(at::autocast::is_cpu_enabled()) { at::autocast::set_cpu_enabled(false); }
  ~Fp32Scope() { at::autocast::set_cpu_enabled(was_enabled_); }
  Fp32Scope(const Fp32Scope&) = delete;
  Fp32Scope& operator=(const Fp32Scope&) = delete;

 private:
  bool was_enabled_;
};

// 1 off the diagonal, 0 on it: [atoms, atoms].
torch::Tensor off_diagonal(std::int64_t atoms, const torch::TensorOptions& options) {
  return 1.0 - torch::eye(atoms, options);
}

// A right-handed spiral (3.6 atoms a turn, as an alpha helix): where MDS
// starts until initialise_with_example gives a training frame. Any start
// with three dimensions works; a real frame gives the dataset's frame and
// chirality.
torch::Tensor spiral(std::int64_t atoms) {
  const auto i = torch::arange(atoms, torch::kFloat32);
  const double turn = 2.0 * M_PI / 3.6;
  auto points = torch::stack({torch::cos(i * turn), torch::sin(i * turn), i * 0.4}, 0);
  return points - points.mean(1, true);
}

}  // namespace

namespace {

DistanceMatrixLayout unchecked_layout(const ModelConfig& c) {
  DistanceMatrixLayout layout;
  layout.sides.push_back(c.atoms);
  // The encoder's Conv2d(4, stride 2, padding 1) maps a side d to floor(d/2).
  while (layout.sides.back() >= kMinSide) {
    const double grown = std::round(static_cast<double>(c.init_channels) *
                                    std::pow(c.channel_growth, static_cast<double>(layout.channels.size())));
    layout.channels.push_back(std::min<std::int64_t>(kMaxChannels, static_cast<std::int64_t>(grown)));
    layout.sides.push_back(layout.sides.back() / 2);
  }
  // Autograd keeps about three maps per level (convolution, batch norm,
  // activation) in the encoder and again in the decoder, a few N x N maps
  // around the distances, and five per MDS iteration.
  const double n2 = static_cast<double>(c.atoms) * static_cast<double>(c.atoms);
  double floats = (6.0 + 5.0 * static_cast<double>(c.mds_iterations)) * n2;
  for (std::size_t l = 0; l < layout.channels.size(); ++l) {
    const double side = static_cast<double>(layout.sides[l + 1]);
    floats += 6.0 * static_cast<double>(layout.channels[l]) * side * side;
  }
  layout.training_bytes_per_structure = floats * sizeof(float);
  return layout;
}

// The most atoms the memory bound allows with c's other options.
std::int64_t most_atoms(ModelConfig c) {
  std::int64_t low = kMinSide, high = c.atoms;  // low fits, high does not
  while (high - low > 1) {
    c.atoms = low + (high - low) / 2;
    const bool fits = unchecked_layout(c).training_bytes_per_structure <=
                      DistanceMatrixAutoencoderImpl::kMaxTrainingBytesPerStructure;
    (fits ? low : high) = c.atoms;
  }
  return low;
}

}  // namespace

DistanceMatrixLayout distance_matrix_layout(const ModelConfig& c) {
  if (c.atoms < kMinSide) fail("needs at least " + std::to_string(kMinSide) + " atoms, got " + std::to_string(c.atoms));
  if (c.latent_dim < 1) fail("latent_dim must be >= 1, got " + std::to_string(c.latent_dim));
  if (c.init_channels < 1 || c.init_channels > kMaxChannels)
    fail("init_channels must be in 1.." + std::to_string(kMaxChannels) + ", got " + std::to_string(c.init_channels));
  if (!(c.channel_growth >= 1.0 && c.channel_growth <= 4.0))
    fail("channel_growth must be in [1, 4], got " + std::to_string(c.channel_growth));
  if (c.mds_iterations < 1 || c.mds_iterations > kMaxMdsIterations)
    fail("mds_iterations must be in 1.." + std::to_string(kMaxMdsIterations) + ", got " +
         std::to_string(c.mds_iterations));
  return unchecked_layout(c);
}

namespace dm_detail {

LevelImpl::LevelImpl(bool upsample, std::int64_t in_channels, std::int64_t out_channels, std::int64_t output_padding) {
  // No bias: the batch norm's shift replaces it.
  if (upsample)
    up_ = register_module("conv",
                          torch::nn::ConvTranspose2d(torch::nn::ConvTranspose2dOptions(in_channels, out_channels, 4)
                                                         .stride(2)
                                                         .padding(1)
                                                         .output_padding(output_padding)
                                                         .bias(false)));
  else
    down_ = register_module(
        "conv",
        torch::nn::Conv2d(torch::nn::Conv2dOptions(in_channels, out_channels, 4).stride(2).padding(1).bias(false)));
  bn_ = register_module("bn", BatchNorm(out_channels));
}

torch::Tensor LevelImpl::forward(torch::Tensor x) {
  x = up_ ? up_->forward(x) : down_->forward(x);
  // molearn::BatchNorm normalises [B, C, L]: the map's two sides as one.
  const auto sizes = x.sizes().vec();
  x = bn_->forward(x.flatten(2)).view(sizes);
  return torch::leaky_relu(x, kLeakySlope);
}

}  // namespace dm_detail

torch::Tensor pairwise_distances(const torch::Tensor& points) {
  const auto squared = points.pow(2).sum(-1);
  const auto d2 = squared.unsqueeze(-1) + squared.unsqueeze(-2) - 2.0 * torch::bmm(points, points.transpose(1, 2));
  return d2.clamp_min(1e-12).sqrt();
}

torch::Tensor smacof(const torch::Tensor& distances, const torch::Tensor& start, std::int64_t iterations) {
  const Fp32Scope fp32;
  const auto target = distances.to(torch::kFloat32);
  const std::int64_t batch = target.size(0), atoms = target.size(1);
  const auto off = off_diagonal(atoms, target.options());
  auto x = (start - start.mean(0, true)).to(target.options()).unsqueeze(0).expand({batch, atoms, 3});
  for (std::int64_t k = 0; k < iterations; ++k) {
    // Guttman transform with unit weights: x <- B(x) x / N, where
    // B_ij = -D_ij / d_ij(x) off the diagonal and each row of B sums to 0.
    const auto ratio = target / pairwise_distances(x) * off;
    x = (ratio.sum(-1, true) * x - torch::bmm(ratio, x)) / static_cast<double>(atoms);
  }
  return x;
}

DistanceMatrixAutoencoderImpl::DistanceMatrixAutoencoderImpl(const ModelConfig& config)
    : config_(config), layout_(distance_matrix_layout(config)) {
  const auto& channels = layout_.channels;
  const auto& sides = layout_.sides;
  const std::size_t levels = channels.size();
  reference_ = register_buffer("reference", spiral(config_.atoms));
  for (std::size_t l = 0; l < levels; ++l)
    down_.push_back(register_module("down" + std::to_string(l),
                                    dm_detail::Level(false, l == 0 ? 1 : channels[l - 1], channels[l], 0)));
  enc_fc_ = register_module("enc_fc", torch::nn::Linear(channels.back(), config_.latent_dim));
  dec_fc_ =
      register_module("dec_fc", torch::nn::Linear(config_.latent_dim, channels.back() * sides.back() * sides.back()));
  // up<k> takes level l = levels-1-k back from side d_{l+1} to d_l; the
  // output padding restores the odd sides the encoder's halving floored.
  for (std::size_t k = 0; k + 1 < levels; ++k) {
    const std::size_t l = levels - 1 - k;
    up_.push_back(register_module("up" + std::to_string(k),
                                  dm_detail::Level(true, channels[l], channels[l - 1], sides[l] - 2 * sides[l + 1])));
  }
  head_ = register_module("head", torch::nn::ConvTranspose2d(torch::nn::ConvTranspose2dOptions(channels[0], 1, 4)
                                                                 .stride(2)
                                                                 .padding(1)
                                                                 .output_padding(sides[0] - 2 * sides[1])));
}

void DistanceMatrixAutoencoderImpl::initialise_with_example(const torch::Tensor& structure) {
  if (structure.dim() != 3 || structure.size(0) != 1 || structure.size(1) != 3 || structure.size(2) != config_.atoms)
    fail("the example structure must be [1, 3, " + std::to_string(config_.atoms) + "], got " +
         c10::str(structure.sizes()));
  const torch::NoGradGuard no_grad;
  const auto frame = structure[0].to(reference_.options());
  reference_.copy_(frame);
}

void DistanceMatrixAutoencoderImpl::check_trainable() const {
  const ModelConfig& c = config_;
  if (layout_.training_bytes_per_structure > kMaxTrainingBytesPerStructure)
    fail(std::to_string(c.atoms) + " atoms need about " + mebibytes(layout_.training_bytes_per_structure) +
         " MiB per structure in a training step (" + std::to_string(c.atoms) + " x " + std::to_string(c.atoms) +
         " distance maps through the convolutions and " + std::to_string(c.mds_iterations) +
         " MDS iterations); the bound is " + mebibytes(kMaxTrainingBytesPerStructure) + " MiB, which allows " +
         std::to_string(most_atoms(c)) +
         " atoms with these options: select fewer atoms (prepare --atoms CA) or use another model");
}

torch::Tensor DistanceMatrixAutoencoderImpl::encode(torch::Tensor x) {
  if (x.dim() != 3 || x.size(1) != 3 || x.size(2) != config_.atoms)
    fail("expected input [batch, 3, " + std::to_string(config_.atoms) + "], got " + c10::str(x.sizes()));
  torch::Tensor h;
  {
    const Fp32Scope fp32;
    // Centred first: the Gram matrix's rounding grows with the coordinates'
    // distance from the origin; the diagonal's noise is masked to its 0.
    auto points = x.to(torch::kFloat32).transpose(1, 2);
    points = points - points.mean(1, true);
    h = (pairwise_distances(points) * off_diagonal(config_.atoms, points.options())).unsqueeze(1);
  }
  for (auto& level : down_) h = level->forward(h);
  return enc_fc_->forward(h.mean({2, 3}));
}

torch::Tensor DistanceMatrixAutoencoderImpl::decode_distances(const torch::Tensor& z) {
  if (z.dim() != 2 || z.size(1) != config_.latent_dim)
    fail("expected latent codes [batch, " + std::to_string(config_.latent_dim) + "], got " + c10::str(z.sizes()));
  const std::int64_t side = layout_.sides.back();
  auto h = dec_fc_->forward(z).view({z.size(0), layout_.channels.back(), side, side});
  for (auto& level : up_) h = level->forward(h);
  h = head_->forward(h).squeeze(1).to(torch::kFloat32);
  // Distances are symmetric, positive off the diagonal and 0 on it.
  return torch::softplus(0.5 * (h + h.transpose(1, 2))) * off_diagonal(config_.atoms, h.options());
}

torch::Tensor DistanceMatrixAutoencoderImpl::decode(torch::Tensor z) {
  const auto distances = decode_distances(z);
  // SMACOF's structures are centred; the reference's centroid puts them
  // where the dataset's frames are.
  const auto centred = smacof(distances, reference_.t(), config_.mds_iterations);
  return (centred.transpose(1, 2) + reference_.mean(1, true)).contiguous();
}

}  // namespace molearn
