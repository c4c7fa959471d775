#include "molearn/physics/torch_forcefield.hpp"

#include <OpenMM.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <tuple>

#include "molearn/core/error.hpp"
#include "molearn/physics/energy_loss_torch.hpp"

namespace molearn {

namespace {

// Below this a squared length or the squared size of atan2's arguments is
// treated as zero: the direction is undefined and gets no gradient. Far
// below anything a structure produces (squared bond lengths are ~1e-2 nm^2,
// the squared arguments of a torsion's atan2 ~1e-8 nm^8), above float32's
// smallest normal number.
constexpr double kDegenerate = 1e-30;

// sqrt with a zero gradient at 0 instead of infinity. The inner where() keeps
// sqrt's own backward away from 0; the outer one passes no gradient there.
torch::Tensor safe_sqrt(const torch::Tensor& v) {
  const torch::Tensor ok = v > kDegenerate;
  return torch::where(ok, torch::sqrt(torch::where(ok, v, torch::ones_like(v))), torch::zeros_like(v));
}

// atan2 with angle 0 and no gradient when both arguments vanish.
torch::Tensor safe_atan2(const torch::Tensor& y, const torch::Tensor& x) {
  const torch::Tensor ok = (x * x + y * y) > kDegenerate;
  return torch::where(ok,
                      torch::atan2(torch::where(ok, y, torch::zeros_like(y)), torch::where(ok, x, torch::ones_like(x))),
                      torch::zeros_like(x));
}

// A 3-vector per term and structure, one [terms, B] tensor per component.
struct Vector {
  torch::Tensor x, y, z;
};
Vector operator-(const Vector& a, const Vector& b) { return {a.x - b.x, a.y - b.y, a.z - b.z}; }
torch::Tensor dot(const Vector& a, const Vector& b) { return a.x * b.x + a.y * b.y + a.z * b.z; }
torch::Tensor norm2(const Vector& a) { return dot(a, a); }
Vector cross(const Vector& a, const Vector& b) {
  return {a.y * b.z - a.z * b.y, a.z * b.x - a.x * b.z, a.x * b.y - a.y * b.x};
}

std::string strip_spaces(std::string s) {
  s.erase(std::remove_if(s.begin(), s.end(), [](unsigned char c) { return std::isspace(c); }), s.end());
  return s;
}

std::string force_kind(const OpenMM::Force& force) {
  if (dynamic_cast<const OpenMM::NonbondedForce*>(&force))
    return "NonbondedForce (the full non-bonded model; use the soft model or the OpenMM path)";
  if (dynamic_cast<const OpenMM::GBSAOBCForce*>(&force)) return "GBSAOBCForce (implicit solvent)";
  if (dynamic_cast<const OpenMM::CustomNonbondedForce*>(&force)) return "CustomNonbondedForce";
  return "force";
}

torch::Tensor long_tensor(const std::vector<std::int64_t>& values, std::int64_t columns) {
  return torch::tensor(values, torch::kLong).view({-1, columns}).clone();
}

torch::Tensor real_tensor(const std::vector<double>& values, torch::Dtype dtype) {
  return torch::tensor(values, torch::kDouble).to(dtype);
}

// The soft core's parameters, after checking that the force is exactly
// molearn's soft core: its expression (ours or Python molearn's), no per-particle parameters, no
// cutoff, one global parameter C.
SoftCoreParameters read_soft_core(const OpenMM::CustomNonbondedForce& force) {
  const std::string expression = strip_spaces(force.getEnergyFunction());
  if (expression != strip_spaces(kSoftCoreExpression) && expression != strip_spaces(kMolearnSoftCoreExpression))
    throw InputError("torch force field: only the soft core " + std::string(kSoftCoreExpression) +
                     " is supported as a CustomNonbondedForce, not " + force.getEnergyFunction());
  if (force.getNonbondedMethod() != OpenMM::CustomNonbondedForce::NoCutoff)
    throw InputError("torch force field: the soft core must have no cutoff (--cutoff 0)");
  if (force.getNumPerParticleParameters() != 0 || force.getNumInteractionGroups() != 0 ||
      force.getNumTabulatedFunctions() != 0 || force.getNumGlobalParameters() != 1 ||
      force.getGlobalParameterName(0) != "C")
    throw InputError("torch force field: the soft core must have exactly one global parameter, C");
  SoftCoreParameters p;
  p.strength = force.getGlobalParameterDefaultValue(0);
  p.width_nm = 0.2;
  std::vector<std::int64_t> pairs;
  pairs.reserve(2 * static_cast<std::size_t>(force.getNumExclusions()));
  for (int e = 0; e < force.getNumExclusions(); ++e) {
    int a = 0, b = 0;
    force.getExclusionParticles(e, a, b);
    pairs.push_back(a);
    pairs.push_back(b);
  }
  p.exclusions = long_tensor(pairs, 2);
  return p;
}

}  // namespace

TorchForceField::TorchForceField(const OpenMM::System& system, CoordinateScale scale, TorchForceFieldOptions options)
    : options_(std::move(options)), scale_(scale), atoms_(system.getNumParticles()) {
  if (atoms_ == 0) throw InputError("torch force field: the system has no atoms");
  if (options_.dtype != torch::kFloat && options_.dtype != torch::kDouble)
    throw InputError("torch force field: the precision must be float32 or float64");
  if (!(scale_.std > 0) || !std::isfinite(scale_.std) || !std::isfinite(scale_.mean))
    throw InputError("torch force field: the dataset's std must be positive and its mean finite");
  if (system.usesPeriodicBoundaryConditions())
    throw InputError("torch force field: periodic systems are not supported");
  std::vector<std::int64_t> bonds, angles, torsions;
  std::vector<double> bond_length, bond_k, angle_theta, angle_k, periodicity, phase, torsion_k;
  for (int f = 0; f < system.getNumForces(); ++f) {
    const OpenMM::Force& force = system.getForce(f);
    if (const auto* b = dynamic_cast<const OpenMM::HarmonicBondForce*>(&force)) {
      for (int i = 0; i < b->getNumBonds(); ++i) {
        int p1 = 0, p2 = 0;
        double length = 0, k = 0;
        b->getBondParameters(i, p1, p2, length, k);
        bonds.insert(bonds.end(), {p1, p2});
        bond_length.push_back(length);
        bond_k.push_back(k);
      }
    } else if (const auto* a = dynamic_cast<const OpenMM::HarmonicAngleForce*>(&force)) {
      for (int i = 0; i < a->getNumAngles(); ++i) {
        int p1 = 0, p2 = 0, p3 = 0;
        double theta = 0, k = 0;
        a->getAngleParameters(i, p1, p2, p3, theta, k);
        angles.insert(angles.end(), {p1, p2, p3});
        angle_theta.push_back(theta);
        angle_k.push_back(k);
      }
    } else if (const auto* t = dynamic_cast<const OpenMM::PeriodicTorsionForce*>(&force)) {
      for (int i = 0; i < t->getNumTorsions(); ++i) {
        int p1 = 0, p2 = 0, p3 = 0, p4 = 0, n = 0;
        double ph = 0, k = 0;
        t->getTorsionParameters(i, p1, p2, p3, p4, n, ph, k);
        torsions.insert(torsions.end(), {p1, p2, p3, p4});
        periodicity.push_back(n);
        phase.push_back(ph);
        torsion_k.push_back(k);
      }
    } else if (const auto* c = dynamic_cast<const OpenMM::CustomNonbondedForce*>(&force)) {
      if (has_soft_core_) throw InputError("torch force field: the system has two soft cores");
      soft_core_ = read_soft_core(*c);
      has_soft_core_ = true;
    } else if (const auto* nb = dynamic_cast<const OpenMM::NonbondedForce*>(&force)) {
      if (has_coulomb_lj_) throw InputError("torch force field: the system has two NonbondedForces");
      coulomb_lj_ = read_coulomb_lennard_jones(*nb);
      has_coulomb_lj_ = true;
    } else if (dynamic_cast<const OpenMM::CMMotionRemover*>(&force)) {
      continue;  // changes dynamics, not energies
    } else {
      throw InputError("torch force field: OpenMM's " + force_kind(force) + " is not supported");
    }
  }
  const torch::Dtype dtype = options_.dtype;
  bond_atoms_ = long_tensor(bonds, 2);
  bond_length_ = real_tensor(bond_length, dtype);
  bond_k_ = real_tensor(bond_k, dtype);
  angle_atoms_ = long_tensor(angles, 3);
  angle_theta_ = real_tensor(angle_theta, dtype);
  angle_k_ = real_tensor(angle_k, dtype);
  torsion_atoms_ = long_tensor(torsions, 4);
  torsion_periodicity_ = real_tensor(periodicity, dtype);
  torsion_phase_ = real_tensor(phase, dtype);
  torsion_k_ = real_tensor(torsion_k, dtype);
}

TorchForceField::TorchForceField(const Dataset& dataset, TorchForceFieldOptions options)
    : TorchForceField(*dataset_system(dataset, options.nonbonded, options.forcefield),
                      CoordinateScale{dataset.mean, dataset.std}, options) {}

TorchEnergyTerms TorchForceField::terms(const torch::Tensor& xyz_nm) const {
  if (xyz_nm.dim() != 3 || xyz_nm.size(1) != atoms_ || xyz_nm.size(2) != 3)
    throw InputError("torch force field: expected coordinates [batch, " + std::to_string(atoms_) + ", 3]");
  const torch::Tensor x = xyz_nm.to(options_.dtype);
  const torch::Device device = x.device();
  const std::int64_t batch = x.size(0);
  // Components first, then atoms, then structures ([3, N, B]): one gather
  // per kind of term, and every vector operation below works on contiguous
  // [terms, B] planes (torch's cross product over a last dimension of 3 is
  // several times slower).
  const torch::Tensor planes = x.permute({2, 1, 0}).contiguous();
  auto points = [&](const torch::Tensor& list) {
    const std::int64_t arity = list.size(1);
    const std::vector<torch::Tensor> axes =
        planes.index_select(1, list.reshape(-1).to(device)).view({3, -1, arity, batch}).unbind(0);
    const std::vector<torch::Tensor> xs = axes[0].unbind(1), ys = axes[1].unbind(1), zs = axes[2].unbind(1);
    std::vector<Vector> out;
    for (std::int64_t a = 0; a < arity; ++a) out.push_back({xs[a], ys[a], zs[a]});
    return out;
  };
  auto parameter = [&](const torch::Tensor& t) { return t.to(device).unsqueeze(1); };  // [terms, 1]
  const torch::Tensor zero = torch::zeros({batch}, x.options());
  TorchEnergyTerms e{zero, zero, zero, zero};

  if (bond_count() > 0) {
    const std::vector<Vector> p = points(bond_atoms_);
    const torch::Tensor r = safe_sqrt(norm2(p[1] - p[0]));
    e.bond = (0.5 * parameter(bond_k_) * (r - parameter(bond_length_)).pow(2)).sum(0);
  }
  if (angle_count() > 0) {
    const std::vector<Vector> p = points(angle_atoms_);
    const Vector a = p[0] - p[1], c = p[2] - p[1];
    // atan2(|a x c|, a.c) is accurate at every angle, where acos is not near 0 and pi.
    const torch::Tensor theta = safe_atan2(safe_sqrt(norm2(cross(a, c))), dot(a, c));
    e.angle = (0.5 * parameter(angle_k_) * (theta - parameter(angle_theta_)).pow(2)).sum(0);
  }
  if (torsion_count() > 0) {
    const std::vector<Vector> p = points(torsion_atoms_);
    const Vector b1 = p[1] - p[0], b2 = p[2] - p[1], b3 = p[3] - p[2];
    const Vector n1 = cross(b1, b2), n2 = cross(b2, b3);
    // IUPAC sign, as OpenMM: phi = atan2(|b2| b1.(b2 x b3), (b1 x b2).(b2 x b3)).
    const torch::Tensor phi = safe_atan2(safe_sqrt(norm2(b2)) * dot(b1, n2), dot(n1, n2));
    e.torsion =
        (parameter(torsion_k_) * (1.0 + torch::cos(parameter(torsion_periodicity_) * phi - parameter(torsion_phase_))))
            .sum(0);
  }
  if (has_soft_core_) {
    e.nonbonded = options_.soft_core == SoftCoreMethod::Kernel && device.is_cpu()
                      ? soft_core_energy(x, soft_core_)
                      : soft_core_energy_blocked(x, soft_core_);
  }
  if (has_coulomb_lj_) e.nonbonded = e.nonbonded + coulomb_lennard_jones_energy(x, coulomb_lj_);
  return e;
}

std::pair<torch::Tensor, torch::Tensor> TorchForceField::energies_and_forces(const torch::Tensor& xyz_nm) const {
  const torch::Tensor x = xyz_nm.detach().to(options_.dtype).contiguous().requires_grad_(true);
  torch::AutoGradMode grad_mode(true);
  const torch::Tensor total = terms(x).total();
  const torch::Tensor gradient = torch::autograd::grad({total.sum()}, {x})[0];
  return {total.detach().to(torch::kCPU, torch::kDouble), (-gradient).to(torch::kCPU, torch::kDouble)};
}

torch::Tensor TorchForceField::energy(const torch::Tensor& decoded) const {
  const torch::Tensor xyz = decoded_to_nm(decoded, scale_, options_.dtype);
  if (xyz.size(1) != atoms_)
    throw InputError("torch force field: structures of " + std::to_string(xyz.size(1)) +
                     " atoms given, the system has " + std::to_string(atoms_));
  torch::Tensor energies, forces;
  if (decoded.requires_grad() && torch::GradMode::is_enabled()) {
    std::tie(energies, forces) = energies_and_forces(xyz);
  } else {
    // No gradient wanted (validation): energies only.
    torch::NoGradGuard no_grad;
    energies = terms(xyz).total().to(torch::kDouble);
    forces = torch::zeros({xyz.size(0), atoms_, 3}, torch::kDouble);
  }
  auto [guarded, guarded_forces] = guard_energies(energies, forces, options_.guard);
  return energy_with_forces(decoded, guarded, guarded_forces, scale_.nm_per_unit());
}

}  // namespace molearn
