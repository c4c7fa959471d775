#include "molearn/physics/coulomb_lj_torch.hpp"

#include <OpenMM.h>

#include <algorithm>
#include <vector>

#include "molearn/core/error.hpp"

namespace molearn {

namespace {

// OpenMM 7.7's 1/(4 pi eps0) in kJ mol^-1 nm e^-2 (ONE_4PI_EPS0 in its
// reference kernels), so that energies agree to rounding.
constexpr double kCoulombConstant = 138.935456;

torch::Tensor pair_energy(const torch::Tensor& r2, const torch::Tensor& charge_product, const torch::Tensor& sigma,
                          const torch::Tensor& epsilon) {
  const torch::Tensor s6 = (sigma * sigma / r2).pow(3);
  return kCoulombConstant * charge_product * torch::rsqrt(r2) + 4.0 * epsilon * (s6 * s6 - s6);
}

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
  const torch::Tensor x = xyz_nm.to(torch::kDouble);
  const torch::Device device = x.device();
  const std::int64_t batch = x.size(0), n = x.size(1);
  const torch::Tensor q = p.charge.to(device), sig = p.sigma.to(device), eps = p.epsilon.to(device);
  const torch::Tensor excluded = p.excluded.to(device);
  const std::int64_t block_rows =
      std::max<std::int64_t>(1, (std::int64_t{1} << 24) / std::max<std::int64_t>(1, 3 * batch * n));
  const torch::Tensor columns = torch::arange(n, torch::TensorOptions().dtype(torch::kLong).device(device));
  torch::Tensor total = torch::zeros({batch}, x.options());
  for (std::int64_t i0 = 0; i0 < n; i0 += block_rows) {
    const std::int64_t i1 = std::min(n, i0 + block_rows);
    const torch::Tensor rows = columns.slice(0, i0, i1);
    // Each pair once (j > i), minus the exceptions.
    const torch::Tensor keep =
        columns.unsqueeze(0).gt(rows.unsqueeze(1)).logical_and(excluded.slice(0, i0, i1).logical_not());
    const torch::Tensor delta = x.slice(1, i0, i1).unsqueeze(2) - x.unsqueeze(1);  // [B, R, N, 3]
    // Pairs not kept get r^2 = 1 so that nothing divides by zero (also not
    // in the backward pass); their energy is then multiplied by zero.
    const torch::Tensor r2 = torch::where(keep, delta.pow(2).sum(3), torch::ones({}, x.options()));
    const torch::Tensor qq = q.slice(0, i0, i1).unsqueeze(1) * q.unsqueeze(0);
    const torch::Tensor s = 0.5 * (sig.slice(0, i0, i1).unsqueeze(1) + sig.unsqueeze(0));
    const torch::Tensor e = torch::sqrt(eps.slice(0, i0, i1).unsqueeze(1) * eps.unsqueeze(0));
    total = total + (pair_energy(r2, qq, s, e) * keep).sum({1, 2});
  }
  if (p.exception_atoms.size(0) > 0) {
    const torch::Tensor pairs = p.exception_atoms.to(device);
    const torch::Tensor delta = x.index_select(1, pairs.select(1, 0)) - x.index_select(1, pairs.select(1, 1));
    total = total + pair_energy(delta.pow(2).sum(2), p.exception_charge_product.to(device),
                                p.exception_sigma.to(device), p.exception_epsilon.to(device))
                        .sum(1);
  }
  return total.to(xyz_nm.scalar_type());
}

}  // namespace molearn
