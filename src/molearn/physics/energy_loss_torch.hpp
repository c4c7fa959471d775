// The force-field energy of decoded structures as a torch loss, computed by
// OpenMM: Python molearn's physics loss (openmm_energy), with the batch spread
// over a pool of OpenMM Contexts.
#pragma once

#include <openmm/System.h>  // dataset_system's callers own the System
#include <torch/torch.h>

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "molearn/data/dataset.hpp"
#include "molearn/physics/context_pool_torch.hpp"
#include "molearn/physics/energy_autograd_torch.hpp"
#include "molearn/physics/forcefield_reader.hpp"
#include "molearn/physics/system_builder.hpp"

namespace molearn {

// The System of a dataset's atoms, as Python molearn's physics loss builds
// it: templates reduced to the dataset's selection, `nonbonded` model (soft
// by default), no cutoff. Throws InputError when a residue matches no template.
std::unique_ptr<OpenMM::System> dataset_system(const Dataset& dataset, NonbondedModel nonbonded = NonbondedModel::Soft,
                                               const std::vector<std::string>& forcefield = kDefaultForceField);

struct PhysicsEnergyOptions {
  NonbondedModel nonbonded = NonbondedModel::Soft;  // used when the System is built from a dataset
  std::vector<std::string> forcefield = kDefaultForceField;
  // "auto" (resolve_platform_name: Reference for molearn's soft core,
  // measured 1.6x faster than CPU in a pool of two), "CPU" or "Reference".
  std::string platform = "auto";
  int threads = 0;  // Contexts in the pool; 0: torch::get_num_threads()
  EnergyGuard guard;
};

// Owns a ContextPool: one energy() call at a time (the pool's Contexts are
// in use until it returns); the call itself runs the batch in parallel.
class PhysicsEnergy {
 public:
  // Builds the System of the dataset (dataset_system) and takes its scaling.
  explicit PhysicsEnergy(const Dataset& dataset, PhysicsEnergyOptions options = {});
  // Any System with the dataset's atoms in order; options.nonbonded and
  // options.forcefield are not used.
  PhysicsEnergy(const OpenMM::System& system, CoordinateScale scale, PhysicsEnergyOptions options = {});
  ~PhysicsEnergy();
  PhysicsEnergy(const PhysicsEnergy&) = delete;
  PhysicsEnergy& operator=(const PhysicsEnergy&) = delete;

  // Potential energies [B] in kJ/mol of decoded structures [B, 3, N] in the
  // models' scaled units (Å = x * std + mean). Differentiable: the backward
  // pass uses OpenMM's forces, dE/dx = -F (kJ/mol/nm) * 0.1 nm/Å * std.
  // Guarded (PhysicsEnergyOptions::guard): the result is finite or NaN; take
  // nan_mean() of it for the loss. Throws InputError on a wrong shape.
  torch::Tensor energy(const torch::Tensor& decoded);
  torch::Tensor operator()(const torch::Tensor& decoded) { return energy(decoded); }

  // Unguarded energies [B] (kJ/mol) and forces [B, N, 3] (kJ/mol/nm), double,
  // of coordinates in nm [B, N, 3].
  std::pair<torch::Tensor, torch::Tensor> energies_and_forces(const torch::Tensor& xyz_nm);

  std::size_t atom_count() const { return pool_->atom_count(); }
  int workers() const { return pool_->workers(); }
  const CoordinateScale& scale() const { return scale_; }
  const PhysicsEnergyOptions& options() const { return options_; }

 private:
  PhysicsEnergyOptions options_;
  CoordinateScale scale_;
  std::unique_ptr<ContextPool> pool_;
};

}  // namespace molearn
