#include "molearn/physics/energy_autograd_torch.hpp"

#include <cmath>
#include <limits>

#include "molearn/core/error.hpp"

namespace molearn {

namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

// Energies whose gradient the caller already knows: the forces. OpenMM
// cannot be differentiated by autograd, and for the libtorch force field the
// forces are computed anyway (to guard them), so both losses end here.
class EnergyFromForces : public torch::autograd::Function<EnergyFromForces> {
 public:
  static torch::Tensor forward(AutogradContext* ctx, const torch::Tensor& decoded, const torch::Tensor& energies,
                               const torch::Tensor& forces, double nm_per_unit) {
    // dE/dx_scaled = dE/dx_nm * dx_nm/dx_scaled = -F * nm_per_unit, in the
    // models' channels-first layout.
    ctx->saved_data["gradient"] = (forces * -nm_per_unit).permute({0, 2, 1}).to(decoded.options()).contiguous();
    return torch::empty({energies.size(0)}, decoded.options()).copy_(energies);
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    const torch::Tensor gradient = ctx->saved_data["gradient"].toTensor();
    const torch::Tensor per_structure = grads[0].to(gradient.dtype()).view({-1, 1, 1});
    return {gradient * per_structure, torch::Tensor(), torch::Tensor(), torch::Tensor()};
  }
};

}  // namespace

torch::Tensor decoded_to_nm(const torch::Tensor& decoded, const CoordinateScale& scale, torch::Dtype dtype) {
  if (decoded.dim() != 3 || decoded.size(1) != 3)
    throw InputError("physics energy: expected structures as [batch, 3, atoms], got " + std::to_string(decoded.dim()) +
                     " dimensions" +
                     (decoded.dim() == 3 ? " with " + std::to_string(decoded.size(1)) + " channels" : ""));
  torch::NoGradGuard no_grad;
  const torch::Tensor x = decoded.detach().to(torch::kCPU, dtype);
  return ((x * scale.std + scale.mean) * 0.1).permute({0, 2, 1}).contiguous();
}

std::pair<torch::Tensor, torch::Tensor> guard_energies(const torch::Tensor& energies, const torch::Tensor& forces,
                                                       const EnergyGuard& guard) {
  if (!(guard.max_energy > 0) || !std::isfinite(guard.max_energy))
    throw InputError("energy guard: the energy ceiling must be a positive finite number");
  if (!(guard.max_force >= 0)) throw InputError("energy guard: the force limit must be >= 0 (0: no limit)");
  torch::NoGradGuard no_grad;
  torch::Tensor e = energies.detach().to(torch::kCPU, torch::kDouble).contiguous().clone();
  torch::Tensor f = forces.detach().to(torch::kCPU, torch::kDouble).contiguous().clone();
  const std::int64_t batch = e.numel();
  if (f.dim() != 3 || f.size(0) != batch || f.size(2) != 3)
    throw InputError("energy guard: forces must be [batch, atoms, 3] for " + std::to_string(batch) + " energies");
  const std::int64_t atoms = f.size(1);
  double* ep = e.data_ptr<double>();
  double* fp = f.data_ptr<double>();
  for (std::int64_t b = 0; b < batch; ++b) {
    double factor = 1.0;
    if (std::isnan(ep[b])) {
      factor = 0.0;
    } else if (std::isinf(ep[b])) {
      ep[b] = guard.max_energy;
      factor = 0.0;
    } else if (ep[b] > guard.max_energy) {
      factor = guard.clamped_gradient == ClampedGradient::Zero ? 0.0 : guard.max_energy / ep[b];
      ep[b] = guard.max_energy;
    }
    double* fb = fp + b * atoms * 3;
    for (std::int64_t i = 0; i < atoms; ++i) {
      double* fi = fb + 3 * i;
      for (int k = 0; k < 3; ++k) fi[k] = std::isfinite(fi[k]) ? fi[k] * factor : 0.0;
      if (guard.max_force > 0) {
        const double norm = std::sqrt(fi[0] * fi[0] + fi[1] * fi[1] + fi[2] * fi[2]);
        if (norm > guard.max_force)
          for (int k = 0; k < 3; ++k) fi[k] *= guard.max_force / norm;
      }
    }
  }
  return {e, f};
}

torch::Tensor energy_with_forces(const torch::Tensor& decoded, const torch::Tensor& energies,
                                 const torch::Tensor& forces, double nm_per_unit) {
  if (energies.dim() != 1 || forces.dim() != 3 || forces.size(0) != energies.size(0) ||
      decoded.size(0) != energies.size(0) || forces.size(1) != decoded.size(2))
    throw InputError("physics energy: energies, forces and structures do not match");
  return EnergyFromForces::apply(decoded, energies.detach(), forces.detach(), nm_per_unit);
}

torch::Tensor nan_mean(const torch::Tensor& values) {
  const torch::Tensor valid = torch::logical_not(torch::isnan(values));
  // where() passes no gradient to the NaN entries; masking alone would give
  // them 0 * NaN.
  const torch::Tensor kept = torch::where(valid, values, torch::zeros_like(values));
  return kept.sum() / valid.sum().clamp_min(1).to(values.scalar_type());
}

}  // namespace molearn
