// The soft-core repulsion of Python molearn's physics loss,
// E = sum over pairs C / ((r/w)^4 + 1) (w = 0.2 nm), over every pair of atoms
// except the excluded ones (1-2 and 1-3 pairs), for batches of structures.
//
// MurD's 2145 reduced atoms make 2.3 million pairs per structure, so the
// pair sum is what the torch force field spends its time on. Two
// implementations:
//  * soft_core_energy: a CPU kernel that computes energies and forces in one
//    sweep over the pairs (vectorised, structures spread over torch's
//    threads), wrapped as an autograd function (first derivatives);
//  * soft_core_energy_blocked: plain libtorch ops over blocks of rows, with
//    autograd to any order, on any device; slower, and the reference the
//    kernel is tested against.
// Both sum all pairs i < j and subtract the excluded pairs, so that the
// inner loop has no branches; the energy is written with r^2 only (no square
// root), so it and its forces stay finite when atoms coincide.
#pragma once

#include <torch/torch.h>

#include <utility>

namespace molearn {

struct SoftCoreParameters {
  double strength = 1.0;     // C, kJ/mol
  double width_nm = 0.2;     // w
  torch::Tensor exclusions;  // [E, 2] int64, each excluded pair once (either order)
};

// Energies [B] (double, kJ/mol) and forces [B, N, 3] (kJ/mol/nm, dtype of
// the input) of coordinates [B, N, 3] in nm, float or double, on the CPU.
// Single precision computes pairs in float and sums each row in double.
std::pair<torch::Tensor, torch::Tensor> soft_core_energies_and_forces(const torch::Tensor& xyz_nm,
                                                                      const SoftCoreParameters& parameters);

// The same energies [B], in the input's dtype, differentiable (first order).
torch::Tensor soft_core_energy(const torch::Tensor& xyz_nm, const SoftCoreParameters& parameters);

// The same with libtorch ops: blocks of `block_rows` rows of the pair
// matrix (0: chosen to keep a block near 16 M elements).
torch::Tensor soft_core_energy_blocked(const torch::Tensor& xyz_nm, const SoftCoreParameters& parameters,
                                       std::int64_t block_rows = 0);

}  // namespace molearn
