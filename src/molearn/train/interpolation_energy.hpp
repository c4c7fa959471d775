// The force-field energy of decoded structures, as the trainer's physics loss
// sees it: one function for both engines (OpenMM Context pool, libtorch
// force field).
#pragma once

#include <torch/torch.h>

#include <functional>

#include "molearn/data/dataset.hpp"
#include "molearn/train/train_options.hpp"

namespace molearn {

// Decoded structures [P, 3, N] in the dataset's scaled units -> energies [P]
// in kJ/mol, differentiable with respect to the input.
using EnergyFunction = std::function<torch::Tensor(const torch::Tensor&)>;

// Builds the engine `options.engine` names for the dataset's atoms (templates
// reduced to its selection). Throws InputError for an unknown engine or a
// dataset the force field cannot match.
EnergyFunction make_interpolation_energy(const Dataset& dataset, const PhysicsOptions& options);

// Mean of the energies that never poisons training: the engines already
// clamp +-inf and huge energies (EnergyGuard, physics/energy_autograd_torch.hpp);
// NaNs are left out of the mean (0 when all are NaN).
torch::Tensor robust_mean_energy(const torch::Tensor& energies);

// The physics term of the training loss (Python molearn's): the mean energy
// of structures decoded at random points between consecutive latent codes of
// each batch. Before `options.start_epoch` it is only recorded; afterwards it
// enters the loss, weighted adaptively (scale * MSE / |mean E|, no gradient
// through the weight) or by the fixed `options.weight`. It also keeps the
// epoch's statistics for the log.
class InterpolationPhysics {
 public:
  // The model's decode (fp32 out). batch_term's must compute in fp32 under
  // --precision bf16 too (trainer.cpp's physics_decoder says why).
  using Decoder = std::function<torch::Tensor(const torch::Tensor&)>;
  // Dataset frame indices [n] -> their latent codes [n, latent].
  using FrameEncoder = std::function<torch::Tensor(const torch::Tensor&)>;

  InterpolationPhysics(EnergyFunction energy, const PhysicsOptions& options);

  bool active(int epoch) const { return epoch >= options_.start_epoch; }
  void start_epoch();

  // The term to add to the batch's loss for latent codes `z` [B, latent]
  // with reconstruction loss `mse`: 0 before the start epoch. Logged-only
  // decodes run in eval mode without gradients, so they leave batch norm's
  // running statistics (and so the run) as they would be without physics.
  torch::Tensor batch_term(torch::nn::Module& model, const Decoder& decode, const torch::Tensor& z,
                           const torch::Tensor& mse, int epoch);

  // Mean energy of structures decoded at fixed points (alpha = 0.25, 0.5,
  // 0.75) between consecutive codes of `ends` (encoded validation frames):
  // comparable from epoch to epoch and from run to run. 0 for fewer than 2.
  double fixed_points_energy(const Decoder& decode, const torch::Tensor& ends) const;

  // The log's valid_energy: fixed_points_energy between consecutive
  // validation frames, encoded and decoded `batch` frames at a time (memory
  // for a batch, not for every frame: cnn2d-dm's N x N maps would not fit).
  // A small dataset may hold a single validation frame (MurD's 16 frames
  // give one); its paths then lead to the first training frames. Call it with
  // the model in eval mode.
  double validation_energy(const FrameEncoder& encode, const Decoder& decode, const torch::Tensor& valid_indices,
                           const torch::Tensor& train_indices, std::int64_t batch) const;

  // Of the epoch so far: mean energy over its batches (0 before any), and
  // the weight of mean(E) in the loss at its last step.
  double epoch_mean_energy() const;
  double last_weight() const { return last_weight_; }

 private:
  EnergyFunction energy_;
  PhysicsOptions options_;
  double energy_sum_ = 0;
  std::size_t energy_batches_ = 0;
  double last_weight_ = 0;
};

}  // namespace molearn
