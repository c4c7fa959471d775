// OpenMM's NonbondedForce without cutoff (the `full` model: Coulomb and
// Lennard-Jones over every pair, exceptions in place of the 1-2, 1-3 and
// scaled 1-4 pairs) in libtorch ops, for batches of structures,
// differentiable to first order: energies and forces are computed together,
// block by block, and the backward pass uses the forces, so memory stays
// bounded (an autograd graph over every pair would keep ~70 bytes per pair).
//
// Charges of opposite sign make the Coulomb sum cancel to a small fraction
// of its terms, so every pair is computed and summed in double precision
// whatever the input's dtype; the result comes back in the input's dtype.
#pragma once

#include <torch/torch.h>

namespace OpenMM {
class NonbondedForce;
}

namespace molearn {

struct CoulombLennardJonesParameters {
  torch::Tensor charge, sigma, epsilon;  // [N] double: e, nm, kJ/mol
  // Pairs left out of the all-pairs sum ([N, N] bool, both orders): every
  // exception of the force, whatever its parameters.
  torch::Tensor excluded;
  // Exceptions with a non-zero term, computed with their own parameters.
  torch::Tensor exception_atoms;                                               // [X, 2] int64
  torch::Tensor exception_charge_product, exception_sigma, exception_epsilon;  // [X] double
};

// Reads a NonbondedForce. Throws InputError for anything but NoCutoff or for
// a force with parameter offsets (OpenMM's global-parameter charges).
CoulombLennardJonesParameters read_coulomb_lennard_jones(const OpenMM::NonbondedForce& force);

// Energies [B] (kJ/mol, dtype of the input) of coordinates [B, N, 3] in nm,
// differentiable (first order). Pairs are processed in blocks of rows of
// about 16 M elements. `p` must outlive the call.
torch::Tensor coulomb_lennard_jones_energy(const torch::Tensor& xyz_nm, const CoulombLennardJonesParameters& p);

}  // namespace molearn
