#include "molearn/physics/coulomb_lj_torch.hpp"

#include <OpenMM.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "molearn/core/error.hpp"

namespace molearn {

namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

// 1/(4 pi eps0) in kJ mol^-1 nm e^-2 with OpenMM 7.7's constants
// (ONE_4PI_EPS0 in openmm/reference/SimTKOpenMMRealType.h).
const double kCoulombConstant = [] {
  const double e_charge = 1.602176634e-19, avogadro = 6.02214076e23;
  const double epsilon0 = 1e-6 * 8.8541878128e-12 / (e_charge * e_charge * avogadro);
  return 1.0 / (4.0 * M_PI * epsilon0);
}();

struct PairTerms {
  torch::Tensor energy;  // per pair
  torch::Tensor de_dr2;  // dE/d(r^2) per pair
};

// E = k qq / r + 4 eps ((s/r)^12 - (s/r)^6), written in r^2.
PairTerms pair_terms(const torch::Tensor& r2, const torch::Tensor& charge_product, const torch::Tensor& sigma,
                     const torch::Tensor& epsilon) {
  const torch::Tensor inv_r2 = r2.reciprocal();
  const torch::Tensor coulomb = kCoulombConstant * charge_product * inv_r2.sqrt();
  const torch::Tensor s6 = (sigma * sigma * inv_r2).pow(3);
  const torch::Tensor s12 = s6 * s6;
  return {coulomb + 4.0 * epsilon * (s12 - s6), (-0.5 * coulomb + epsilon * (12.0 * s6 - 24.0 * s12)) * inv_r2};
}

// Energies [B] and forces [B, N, 3] in double, no autograd graph: each
// block's temporaries die with the block, so memory stays bounded however
// many pairs there are.
std::pair<torch::Tensor, torch::Tensor> energies_and_forces(const torch::Tensor& xyz_nm,
                                                            const CoulombLennardJonesParameters& p) {
  torch::NoGradGuard no_grad;
  const torch::Tensor x = xyz_nm.detach().to(torch::kDouble);
  const torch::Device device = x.device();
  const std::int64_t batch = x.size(0), n = x.size(1);
  const torch::Tensor q = p.charge.to(device), sig = p.sigma.to(device), eps = p.epsilon.to(device);
  const torch::Tensor excluded = p.excluded.to(device);
  const torch::Tensor index = torch::arange(n, torch::TensorOptions().dtype(torch::kLong).device(device));
  torch::Tensor energies = torch::zeros({batch}, x.options());
  torch::Tensor forces = torch::zeros_like(x);
  const std::int64_t block_rows =
      std::max<std::int64_t>(1, (std::int64_t{1} << 24) / std::max<std::int64_t>(1, 3 * batch * n));
  for (std::int64_t i0 = 0; i0 < n; i0 += block_rows) {
    const std::int64_t i1 = std::min(n, i0 + block_rows);
    // Rows [i0, i1) against columns [i0, n): each pair once (j > i), minus the exceptions.
    const torch::Tensor rows = index.slice(0, i0, i1), columns = index.slice(0, i0, n);
    const torch::Tensor keep =
        columns.unsqueeze(0).gt(rows.unsqueeze(1)).logical_and(excluded.slice(0, i0, i1).slice(1, i0, n).logical_not());
    const torch::Tensor delta = x.slice(1, i0, i1).unsqueeze(2) - x.slice(1, i0, n).unsqueeze(1);  // [B, R, C, 3]
    // Pairs not kept get r^2 = 1 (nothing divides by zero), then weight 0.
    const torch::Tensor r2 = torch::where(keep, delta.pow(2).sum(3), torch::ones({}, x.options()));
    const torch::Tensor qq = q.slice(0, i0, i1).unsqueeze(1) * q.slice(0, i0, n).unsqueeze(0);
    const torch::Tensor s = 0.5 * (sig.slice(0, i0, i1).unsqueeze(1) + sig.slice(0, i0, n).unsqueeze(0));
    const torch::Tensor e = torch::sqrt(eps.slice(0, i0, i1).unsqueeze(1) * eps.slice(0, i0, n).unsqueeze(0));
    const PairTerms t = pair_terms(r2, qq, s, e);
    const torch::Tensor weight = keep.to(x.scalar_type());
    energies += (t.energy * weight).sum({1, 2});
    // F_i = -dE/dx_i = -2 dE/dr2 (x_i - x_j); F_j = -F_i.
    const torch::Tensor pair_force = (-2.0 * t.de_dr2 * weight).unsqueeze(3) * delta;
    forces.slice(1, i0, i1) += pair_force.sum(2);
    forces.slice(1, i0, n) -= pair_force.sum(1);
  }
  if (p.exception_atoms.size(0) > 0) {
    const torch::Tensor a = p.exception_atoms.select(1, 0).to(device), b = p.exception_atoms.select(1, 1).to(device);
    const torch::Tensor delta = x.index_select(1, a) - x.index_select(1, b);  // [B, X, 3]
    const PairTerms t = pair_terms(delta.pow(2).sum(2), p.exception_charge_product.to(device),
                                   p.exception_sigma.to(device), p.exception_epsilon.to(device));
    energies += t.energy.sum(1);
    const torch::Tensor pair_force = (-2.0 * t.de_dr2).unsqueeze(2) * delta;
    forces.index_add_(1, a, pair_force);
    forces.index_add_(1, b, -pair_force);
  }
  return {energies, forces};
}

class CoulombLennardJonesFunction : public torch::autograd::Function<CoulombLennardJonesFunction> {
 public:
  static torch::Tensor forward(AutogradContext* ctx, const torch::Tensor& xyz,
                               const CoulombLennardJonesParameters* parameters) {
    auto [energies, forces] = energies_and_forces(xyz, *parameters);
    ctx->saved_data["forces"] = forces;
    return energies.to(xyz.scalar_type());
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    const torch::Tensor forces = ctx->saved_data["forces"].toTensor();
    return {(-forces * grads[0].to(torch::kDouble).view({-1, 1, 1})).to(grads[0].scalar_type()), torch::Tensor()};
  }
};

}  // namespace

CoulombLennardJonesParameters read_coulomb_lennard_jones(const OpenMM::NonbondedForce& force) {
  if (force.getNonbondedMethod() != OpenMM::NonbondedForce::NoCutoff)
    throw InputError("torch force field: the Coulomb/Lennard-Jones force must have no cutoff (--cutoff 0)");
  if (force.getNumParticleParameterOffsets() != 0 || force.getNumExceptionParameterOffsets() != 0)
    throw InputError("torch force field: NonbondedForce parameter offsets are not supported");
  const int n = force.getNumParticles();
  std::vector<double> charge(n), sigma(n), epsilon(n);
  for (int i = 0; i < n; ++i) force.getParticleParameters(i, charge[i], sigma[i], epsilon[i]);
  auto as_tensor = [](const std::vector<double>& v) { return torch::tensor(v, torch::kDouble); };
  CoulombLennardJonesParameters p;
  p.charge = as_tensor(charge);
  p.sigma = as_tensor(sigma);
  p.epsilon = as_tensor(epsilon);
  p.excluded = torch::zeros({n, n}, torch::kBool);
  auto excluded = p.excluded.accessor<bool, 2>();
  std::vector<std::int64_t> atoms;
  std::vector<double> qq, s, e;
  for (int k = 0; k < force.getNumExceptions(); ++k) {
    int a = 0, b = 0;
    double charge_product = 0, sig = 0, eps = 0;
    force.getExceptionParameters(k, a, b, charge_product, sig, eps);
    excluded[a][b] = excluded[b][a] = true;
    if (charge_product == 0 && eps == 0) continue;
    atoms.insert(atoms.end(), {a, b});
    qq.push_back(charge_product);
    s.push_back(sig);
    e.push_back(eps);
  }
  p.exception_atoms = torch::tensor(atoms, torch::kLong).view({-1, 2});
  p.exception_charge_product = as_tensor(qq);
  p.exception_sigma = as_tensor(s);
  p.exception_epsilon = as_tensor(e);
  return p;
}

torch::Tensor coulomb_lennard_jones_energy(const torch::Tensor& xyz_nm, const CoulombLennardJonesParameters& p) {
  return CoulombLennardJonesFunction::apply(xyz_nm, &p);
}

}  // namespace molearn
