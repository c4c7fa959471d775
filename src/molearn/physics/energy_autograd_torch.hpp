// What both physics losses (the OpenMM Context pool and the libtorch force
// field) share: the scaling between model output and nm, the guard that keeps
// non-finite or huge energies from poisoning training, the autograd function
// that turns forces into gradients, and a NaN-aware mean.
#pragma once

#include <torch/torch.h>

#include <utility>

namespace molearn {

// Model output is in scaled units: Å = x * std + mean (Dataset::mean, std).
struct CoordinateScale {
  double mean = 0.0;
  double std = 1.0;
  // nm per scaled unit: d(x_nm)/d(x_scaled) = 0.1 * std.
  double nm_per_unit() const { return 0.1 * std; }
};

// Decoded structures in the models' layout [B, 3, N] (scaled) to
// coordinates in nm, [B, N, 3], contiguous, of `dtype`, detached.
torch::Tensor decoded_to_nm(const torch::Tensor& decoded, const CoordinateScale& scale,
                            torch::Dtype dtype = torch::kDouble);

// What happens to energies and forces that would upset an optimiser.
enum class ClampedGradient {
  Zero,   // as torch.clamp: a clamped energy passes no gradient
  Scale,  // the forces are scaled by max_energy / E: still downhill, bounded
};

struct EnergyGuard {
  // Energies above this (kJ/mol), and +-inf, are reported as max_energy.
  // An infinite energy of either sign means a broken structure (overlapping
  // atoms under the full Coulomb model), so -inf is penalised like +inf, as
  // Python molearn's trainer does (energy[isinf] = 1e35, then clamp).
  double max_energy = 1e10;
  ClampedGradient clamped_gradient = ClampedGradient::Zero;
  // Largest force per atom (kJ/mol/nm, the norm of its 3 components); larger
  // forces keep their direction. 0: no limit. (Python molearn clamps each
  // component to +-clamp_threshold instead, which turns the force.)
  double max_force = 0.0;
};

// Applies `guard` to energies [B] (kJ/mol) and forces [B, N, 3] (kJ/mol/nm),
// both double on the CPU: NaN energies stay NaN (nan_mean skips them) and get
// zero forces; +-inf and energies above the ceiling are clamped; non-finite
// force components become 0; per-atom forces are limited. Returns new tensors.
std::pair<torch::Tensor, torch::Tensor> guard_energies(const torch::Tensor& energies, const torch::Tensor& forces,
                                                       const EnergyGuard& guard);

// Energies [B] of `decoded` ([B, 3, N], scaled units) whose gradient is
// given by forces [B, N, 3] in kJ/mol/nm computed by the caller at the same
// coordinates: dE/dx_scaled = -F * nm_per_unit, laid out [B, 3, N], times the
// incoming gradient of each structure. The result has decoded's dtype and
// device; no second derivatives.
torch::Tensor energy_with_forces(const torch::Tensor& decoded, const torch::Tensor& energies,
                                 const torch::Tensor& forces, double nm_per_unit);

// The mean of the entries that are not NaN (torch.nanmean), differentiable;
// 0 (with a zero gradient) when every entry is NaN, so that one batch of
// broken structures costs a step, not the run.
torch::Tensor nan_mean(const torch::Tensor& values);

}  // namespace molearn
