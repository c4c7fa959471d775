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

}  // namespace molearn
