// The force field of an OpenMM System re-written with libtorch ops: energies
// of batches of structures, differentiable by autograd, without OpenMM at
// evaluation time. The parameters are read from the System once, so this
// computes what the OpenMM path (PhysicsEnergy) computes, in parallel over
// the batch and without a round trip through OpenMM per structure.
//
// Supported forces (anything else is refused with an InputError):
//  * HarmonicBondForce      E = k/2 (r - r0)^2
//  * HarmonicAngleForce     E = k/2 (theta - theta0)^2
//  * PeriodicTorsionForce   E = k (1 + cos(n phi - phase)), propers and
//                           impropers alike (OpenMM's atom order, IUPAC sign)
//  * CustomNonbondedForce   only molearn's soft core (kSoftCoreExpression,
//                           NoCutoff): the `soft` model
//  * NonbondedForce         Coulomb + Lennard-Jones with exceptions, NoCutoff:
//                           the `full` model (coulomb_lj_torch.hpp; always
//                           summed in double precision: its terms cancel)
//  * CMMotionRemover        no energy, ignored
// Not supported: implicit solvent, cutoffs. Use PhysicsEnergy (OpenMM) for
// those.
//
// Degenerate geometry (atoms on top of each other, collinear angles and
// torsions) gives finite bonded and soft-core energies and zero forces along
// the undefined directions, where OpenMM gives NaN forces; under the `full`
// model coincident atoms give infinite or NaN energies, as in OpenMM, which
// energy()'s guard clamps.
#pragma once

#include <torch/torch.h>

#include <string>
#include <utility>
#include <vector>

#include "molearn/data/dataset.hpp"
#include "molearn/physics/coulomb_lj_torch.hpp"
#include "molearn/physics/energy_autograd_torch.hpp"
#include "molearn/physics/forcefield_reader.hpp"
#include "molearn/physics/soft_core_torch.hpp"
#include "molearn/physics/system_builder.hpp"

namespace OpenMM {
class System;
}

namespace molearn {

enum class SoftCoreMethod {
  Kernel,   // soft_core_energy: fused CPU kernel, first derivatives (default)
  Blocked,  // soft_core_energy_blocked: libtorch ops, any order, any device
};

struct TorchForceFieldOptions {
  NonbondedModel nonbonded = NonbondedModel::Soft;  // when built from a dataset
  std::vector<std::string> forcefield = kDefaultForceField;
  // Precision of the terms. float32 agrees with OpenMM's double-precision
  // Reference platform to ~1e-6 in energy on MurD (every term is positive,
  // nothing cancels); double costs about twice the time.
  torch::Dtype dtype = torch::kFloat;
  SoftCoreMethod soft_core = SoftCoreMethod::Kernel;
  EnergyGuard guard;
};

// Energies [B] by force group (kJ/mol); `nonbonded` (soft core or Coulomb +
// Lennard-Jones) is zero under the `none` model.
struct TorchEnergyTerms {
  torch::Tensor bond, angle, torsion, nonbonded;
  torch::Tensor total() const { return bond + angle + torsion + nonbonded; }
};

class TorchForceField {
 public:
  // Parameters of `system`; `scale` converts model output to Å (energy()).
  explicit TorchForceField(const OpenMM::System& system, CoordinateScale scale = {},
                           TorchForceFieldOptions options = {});
  // The System of the dataset's atoms (dataset_system with options.nonbonded
  // and options.forcefield) and the dataset's scaling.
  explicit TorchForceField(const Dataset& dataset, TorchForceFieldOptions options = {});

  // Energies by term of coordinates [B, N, 3] in nm (any floating dtype; the
  // terms are computed in options.dtype). Differentiable by autograd: to any
  // order with SoftCoreMethod::Blocked and no Coulomb/Lennard-Jones, first
  // order otherwise.
  TorchEnergyTerms terms(const torch::Tensor& xyz_nm) const;

  // Unguarded energies [B] and forces [B, N, 3] (kJ/mol/nm), double, of
  // coordinates [B, N, 3] in nm. No graph is kept.
  std::pair<torch::Tensor, torch::Tensor> energies_and_forces(const torch::Tensor& xyz_nm) const;

  // The physics loss of decoded structures [B, 3, N] in scaled units (Å =
  // x * std + mean): energies [B] in kJ/mol, guarded like PhysicsEnergy
  // (options.guard), with dtype and device of `decoded`; the backward pass
  // uses the forces. Take nan_mean() of it for the loss.
  torch::Tensor energy(const torch::Tensor& decoded) const;
  torch::Tensor operator()(const torch::Tensor& decoded) const { return energy(decoded); }

  std::int64_t atom_count() const { return atoms_; }
  const CoordinateScale& scale() const { return scale_; }
  const TorchForceFieldOptions& options() const { return options_; }
  std::int64_t bond_count() const { return bond_atoms_.size(0); }
  std::int64_t angle_count() const { return angle_atoms_.size(0); }
  std::int64_t torsion_count() const { return torsion_atoms_.size(0); }
  bool has_soft_core() const { return has_soft_core_; }
  const SoftCoreParameters& soft_core() const { return soft_core_; }
  bool has_coulomb_lennard_jones() const { return has_coulomb_lj_; }

 private:
  TorchForceFieldOptions options_;
  CoordinateScale scale_;
  std::int64_t atoms_ = 0;
  torch::Tensor bond_atoms_, bond_length_, bond_k_;                                // [nb, 2]; [nb]
  torch::Tensor angle_atoms_, angle_theta_, angle_k_;                              // [na, 3]; [na]
  torch::Tensor torsion_atoms_, torsion_periodicity_, torsion_phase_, torsion_k_;  // [nt, 4]; [nt]
  bool has_soft_core_ = false;
  SoftCoreParameters soft_core_;
  bool has_coulomb_lj_ = false;
  CoulombLennardJonesParameters coulomb_lj_;
};

}  // namespace molearn
