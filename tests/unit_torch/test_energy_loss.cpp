// The force-field energy as a torch loss: the OpenMM Context pool
// (PhysicsEnergy) and the libtorch force field (TorchForceField), against
// OpenMM's own evaluation, finite differences and each other; the guard that
// keeps broken structures from poisoning training.
#include <gtest/gtest.h>

#include <OpenMM.h>

#include <cmath>
#include <functional>
#include <memory>
#include <random>

#include "molearn/core/error.hpp"
#include "molearn/data/prepare.hpp"
#include "molearn/physics/energy_evaluator.hpp"
#include "molearn/physics/energy_loss_torch.hpp"
#include "molearn/physics/torch_forcefield.hpp"
#include "molearn/train/tensor_dataset.hpp"
#include "test_support.hpp"

using namespace molearn;

namespace {

// The shipped NMR ensemble of 2MI7 (67 residues), N,CA,CB,C,O: 326 atoms.
const Dataset& nmr_dataset() {
  static const Dataset d = [] {
    PrepareOptions o;
    o.inputs = {(test::source_dir() / "examples/data/2mi7_heavy.dcd").string()};
    o.topology = (test::source_dir() / "examples/data/2mi7_heavy_topology.pdb").string();
    return prepare_dataset(o);
  }();
  return d;
}

std::filesystem::path murd_dir() { return test::shared_data_dir() / "murd"; }

// Three MurD frames (2145 atoms); callers check the files exist first.
const Dataset& murd_dataset() {
  static const Dataset d = [] {
    PrepareOptions o;
    o.inputs = {(murd_dir() / "MurD_test.dcd").string()};
    o.topology = (murd_dir() / "MurD_test_topo.pdb").string();
    o.max_frames = 3;
    return prepare_dataset(o);
  }();
  return d;
}

#define REQUIRE_MURD()                                       \
  do {                                                       \
    MOLEARN_REQUIRE_FILE(murd_dir() / "MurD_test.dcd");      \
    MOLEARN_REQUIRE_FILE(murd_dir() / "MurD_test_topo.pdb"); \
  } while (0)

// Frames [first, first + count) in the models' layout [B, 3, N], scaled.
torch::Tensor decoded_frames(const Dataset& d, std::int64_t first, std::int64_t count,
                             torch::Dtype dtype = torch::kFloat) {
  return to_tensors(d).coords.slice(0, first, first + count).to(dtype).contiguous();
}

// OpenMM's answer for one frame, through molearn's EnergyEvaluator.
EnergyResult openmm_reference(const Dataset& d, const torch::Tensor& decoded_one, const std::string& platform,
                              NonbondedModel model = NonbondedModel::Soft) {
  EnergyEvaluator evaluator(dataset_system(d, model), platform);
  const torch::Tensor xyz = decoded_to_nm(decoded_one.unsqueeze(0), {d.mean, d.std}, torch::kDouble)[0] * 10.0;
  std::vector<double> angstrom(xyz.data_ptr<double>(), xyz.data_ptr<double>() + xyz.numel());
  return evaluator.evaluate(std::span<const double>(angstrom), true);
}

double group_energy(const EnergyResult& r, const std::string& name) {
  for (const GroupEnergy& g : r.groups)
    if (g.name == name) return g.energy;
  return 0.0;
}

// ||a - b|| / ||b|| over all components.
double relative_error(const torch::Tensor& a, const torch::Tensor& b) {
  return ((a.to(torch::kDouble) - b.to(torch::kDouble)).norm() / b.to(torch::kDouble).norm()).item<double>();
}

torch::Tensor forces_tensor(const EnergyResult& r) { return torch::tensor(r.forces, torch::kDouble).view({-1, 3}); }

PhysicsEnergyOptions openmm_options(const std::string& platform, int threads) {
  PhysicsEnergyOptions o;
  o.platform = platform;
  o.threads = threads;
  return o;
}

// Gaussian noise of `sigma` Å on scaled coordinates: "decoded" structures
// that are not exactly the training frames.
torch::Tensor with_noise(const torch::Tensor& decoded, double sigma_angstrom, double std, std::uint64_t seed) {
  torch::manual_seed(seed);
  return decoded + torch::randn_like(decoded) * (sigma_angstrom / std);
}

// Restores torch's thread count when a test changed it.
struct ThreadCount {
  int saved = torch::get_num_threads();
  explicit ThreadCount(int n) { torch::set_num_threads(n); }
  ~ThreadCount() { torch::set_num_threads(saved); }
};

}  // namespace

// ---------------------------------------------------------------- OpenMM path

TEST(EnergyLoss, EqualsEnergyEvaluatorPerStructure) {
  const Dataset& d = nmr_dataset();
  ASSERT_EQ(d.atom_count(), 326u);  // glycines have no CB
  PhysicsEnergy physics(d, openmm_options("Reference", 1));
  const torch::Tensor decoded = decoded_frames(d, 0, 4);
  const torch::Tensor energies = physics.energy(decoded);
  ASSERT_EQ(energies.sizes(), torch::IntArrayRef({4}));
  EXPECT_EQ(energies.scalar_type(), torch::kFloat);
  for (std::int64_t b = 0; b < 4; ++b) {
    const EnergyResult ref = openmm_reference(d, decoded[b], "Reference");
    EXPECT_NEAR(energies[b].item<double>(), ref.total, 1e-6 * std::abs(ref.total)) << "structure " << b;
  }
}

TEST(EnergyLoss, GradientIsScaledForce) {
  const Dataset& d = nmr_dataset();
  PhysicsEnergy physics(d, openmm_options("Reference", 1));
  const torch::Tensor decoded = decoded_frames(d, 2, 3).requires_grad_(true);
  const torch::Tensor weights = torch::tensor({1.0f, -2.0f, 0.5f});
  (physics.energy(decoded) * weights).sum().backward();
  ASSERT_TRUE(decoded.grad().defined());
  EXPECT_EQ(decoded.grad().sizes(), decoded.sizes());
  for (std::int64_t b = 0; b < 3; ++b) {
    const EnergyResult ref = openmm_reference(d, decoded[b].detach(), "Reference");
    // dE/dx_scaled = -F (kJ/mol/nm) * 0.1 nm/Å * std, channels first.
    const torch::Tensor expected = -forces_tensor(ref).t() * 0.1 * d.std * weights[b].item<double>();
    EXPECT_LT(relative_error(decoded.grad()[b], expected), 1e-5) << "structure " << b;
  }
}

TEST(EnergyLoss, GradientEqualsFiniteDifferences) {
  const Dataset& d = nmr_dataset();
  PhysicsEnergy physics(d, openmm_options("Reference", 1));
  const torch::Tensor base = with_noise(decoded_frames(d, 5, 1, torch::kDouble), 0.05, d.std, 3);
  const torch::Tensor x = base.clone().requires_grad_(true);
  physics.energy(x).sum().backward();
  const torch::Tensor grad = x.grad();
  // A step of 1e-3 Å; central differences are then exact to ~1e-6 relative.
  const double h = 1e-3 / d.std;
  for (auto [axis, atom] : {std::pair{0, 0}, {1, 17}, {2, 120}, {0, 325}, {1, 200}}) {
    torch::Tensor plus = base.clone(), minus = base.clone();
    plus[0][axis][atom] += h;
    minus[0][axis][atom] -= h;
    const double numeric = (physics.energy(plus).item<double>() - physics.energy(minus).item<double>()) / (2 * h);
    const double analytic = grad[0][axis][atom].item<double>();
    EXPECT_NEAR(analytic, numeric, 1e-4 * std::abs(numeric) + 1e-3) << "axis " << axis << " atom " << atom;
  }
}

TEST(EnergyLoss, PoolOfTwoWorkersEqualsOne) {
  const Dataset& d = nmr_dataset();
  PhysicsEnergy one(d, openmm_options("CPU", 1));
  PhysicsEnergy two(d, openmm_options("CPU", 2));
  EXPECT_EQ(one.workers(), 1);
  EXPECT_EQ(two.workers(), 2);
  const torch::Tensor a = decoded_frames(d, 0, 7).requires_grad_(true);
  const torch::Tensor b = decoded_frames(d, 0, 7).requires_grad_(true);
  const torch::Tensor ea = one.energy(a), eb = two.energy(b);
  ea.sum().backward();
  eb.sum().backward();
  // Same System, same positions, one thread per Context: the same numbers.
  EXPECT_TRUE(torch::equal(ea, eb));
  EXPECT_TRUE(torch::equal(a.grad(), b.grad()));
}

TEST(EnergyLoss, DefaultWorkersFollowTorchThreads) {
  const Dataset& d = nmr_dataset();
  ThreadCount threads(2);
  PhysicsEnergy physics(d, openmm_options("Reference", 0));
  EXPECT_EQ(physics.workers(), 2);
}

TEST(EnergyLoss, RefusesWrongShapes) {
  const Dataset& d = nmr_dataset();
  PhysicsEnergy physics(d, openmm_options("Reference", 1));
  EXPECT_THROW(physics.energy(torch::zeros({2, 326, 3})), InputError);
  EXPECT_THROW(physics.energy(torch::zeros({2, 3, 334})), InputError);
  EXPECT_THROW(PhysicsEnergy(d, openmm_options("NoSuchPlatform", 1)), InputError);
}

// ------------------------------------------------------------------ robustness

TEST(EnergyLoss, GuardClampsEnergiesAndForces) {
  const double inf = std::numeric_limits<double>::infinity(), nan = std::nan("");
  const torch::Tensor energies = torch::tensor({10.0, inf, -inf, 5e10, nan, 2e10}, torch::kDouble);
  torch::Tensor forces = torch::ones({6, 2, 3}, torch::kDouble);
  forces[0][1][2] = nan;
  forces[0][0][0] = 300.0;  // |F| of atom 0 = sqrt(300^2 + 2)
  EnergyGuard guard;
  guard.max_energy = 1e10;
  guard.max_force = 100.0;
  auto [e, f] = guard_energies(energies, forces, guard);
  EXPECT_EQ(e[0].item<double>(), 10.0);
  EXPECT_EQ(e[1].item<double>(), 1e10);
  EXPECT_EQ(e[2].item<double>(), 1e10);  // -inf is a broken structure too
  EXPECT_EQ(e[3].item<double>(), 1e10);
  EXPECT_TRUE(std::isnan(e[4].item<double>()));
  EXPECT_NEAR(f[0][0].norm().item<double>(), 100.0, 1e-9);  // limited, direction kept
  EXPECT_NEAR((f[0][0][1] / f[0][0][0]).item<double>(), 1.0 / 300.0, 1e-12);
  EXPECT_EQ(f[0][1][2].item<double>(), 0.0);  // NaN component dropped
  EXPECT_EQ(f[0][1][0].item<double>(), 1.0);
  for (int b = 1; b <= 5; ++b) EXPECT_EQ(f[b].abs().sum().item<double>(), 0.0) << b;

  guard.clamped_gradient = ClampedGradient::Scale;
  guard.max_force = 0;
  std::tie(e, f) = guard_energies(energies, forces, guard);
  EXPECT_NEAR(f[3][0][0].item<double>(), 0.2, 1e-12);  // 1e10 / 5e10
  EXPECT_NEAR(f[5][1][1].item<double>(), 0.5, 1e-12);
  EXPECT_EQ(f[1].abs().sum().item<double>(), 0.0);  // infinite: no direction to scale
  EXPECT_THROW(guard_energies(energies, forces, EnergyGuard{-1.0}), InputError);
}

TEST(EnergyLoss, NanMeanSkipsNaN) {
  const torch::Tensor v = torch::tensor({1.0f, std::nanf(""), 3.0f}).requires_grad_(true);
  const torch::Tensor m = nan_mean(v);
  EXPECT_FLOAT_EQ(m.item<float>(), 2.0f);
  m.backward();
  EXPECT_TRUE(torch::equal(v.grad(), torch::tensor({0.5f, 0.0f, 0.5f})));
  const torch::Tensor all = torch::full({3}, std::nanf("")).requires_grad_(true);
  const torch::Tensor z = nan_mean(all);
  EXPECT_EQ(z.item<float>(), 0.0f);
  z.backward();
  EXPECT_EQ(all.grad().abs().sum().item<float>(), 0.0f);
}

namespace {

// Broken "decoded" structures: every atom at one point; two non-bonded
// atoms on top of each other; two bonded atoms on top of each other; one
// coordinate NaN; one structure blown up to 1e6 Å.
torch::Tensor broken_structures(const Dataset& d) {
  torch::Tensor x = decoded_frames(d, 0, 5).clone();
  x[0].fill_(0.3f);
  x[1].select(1, 40).copy_(x[1].select(1, 200));
  x[2].select(1, 1).copy_(x[2].select(1, 0));
  x[3][1][7] = std::nanf("");
  x[4] *= 1e6f / static_cast<float>(d.std);
  return x;
}

void expect_finite_loss(const std::function<torch::Tensor(const torch::Tensor&)>& energy, const Dataset& d,
                        const char* what) {
  const torch::Tensor x = broken_structures(d).requires_grad_(true);
  const torch::Tensor e = energy(x);
  EXPECT_FALSE(torch::isinf(e).any().item<bool>()) << what << ": " << e;
  const torch::Tensor loss = nan_mean(e);
  EXPECT_TRUE(std::isfinite(loss.item<double>())) << what;
  loss.backward();
  EXPECT_TRUE(torch::isfinite(x.grad()).all().item<bool>()) << what;
}

}  // namespace

TEST(EnergyLoss, CollapsedStructuresGiveFiniteLossAndGradient) {
  const Dataset& d = nmr_dataset();
  for (const char* platform : {"Reference", "CPU"}) {
    PhysicsEnergy physics(d, openmm_options(platform, 2));
    expect_finite_loss([&](const torch::Tensor& x) { return physics.energy(x); }, d, platform);
  }
  TorchForceField torch_ff(d);
  expect_finite_loss([&](const torch::Tensor& x) { return torch_ff.energy(x); }, d, "torch");
  // The torch force field's energies of the collapsed ones are finite
  // numbers, not NaN: the soft core of coincident atoms is C.
  const torch::Tensor e = torch_ff.energy(broken_structures(d));
  EXPECT_TRUE(torch::isfinite(e.slice(0, 0, 3)).all().item<bool>()) << e;
  EXPECT_TRUE(std::isnan(e[3].item<float>()));
}

TEST(EnergyLoss, FullModelOverlapIsClampedNotInfinite) {
  const Dataset& d = nmr_dataset();
  PhysicsEnergyOptions o = openmm_options("Reference", 1);
  o.nonbonded = NonbondedModel::Full;
  PhysicsEnergy physics(d, o);
  const torch::Tensor x = broken_structures(d).slice(0, 1, 2).requires_grad_(true);
  const torch::Tensor e = physics.energy(x);
  // Coulomb and Lennard-Jones of coincident atoms diverge: clamped (or NaN).
  const double value = e[0].item<double>();
  EXPECT_TRUE(std::isnan(value) || value <= o.guard.max_energy) << value;
  nan_mean(e).backward();
  EXPECT_TRUE(torch::isfinite(x.grad()).all().item<bool>());
}

// ------------------------------------------------------------ torch force field

TEST(TorchForceField, TermsMatchOpenMMOnNmrEnsemble) {
  const Dataset& d = nmr_dataset();
  TorchForceField ff(d);
  EXPECT_TRUE(ff.has_soft_core());
  EXPECT_GT(ff.bond_count(), 300);
  const torch::Tensor decoded = with_noise(decoded_frames(d, 10, 3), 0.1, d.std, 7);
  const torch::Tensor xyz = decoded_to_nm(decoded, ff.scale(), torch::kFloat);
  const TorchEnergyTerms terms = ff.terms(xyz);
  auto [energies, forces] = ff.energies_and_forces(xyz);
  for (std::int64_t b = 0; b < 3; ++b) {
    const EnergyResult ref = openmm_reference(d, decoded[b], "Reference");
    for (auto [name, value] : {std::pair{"bond", terms.bond},
                               {"angle", terms.angle},
                               {"torsion", terms.torsion},
                               {"nonbonded", terms.nonbonded}}) {
      const double expected = group_energy(ref, name);
      EXPECT_NEAR(value[b].item<double>(), expected, 1e-5 * std::abs(expected) + 1e-4) << name << " " << b;
    }
    EXPECT_NEAR(energies[b].item<double>(), ref.total, 1e-4 * std::abs(ref.total));
    EXPECT_LT(relative_error(forces[b], forces_tensor(ref)), 1e-4) << b;
  }
}

TEST(TorchForceField, MatchesOpenMMOnMurD) {
  REQUIRE_MURD();
  const Dataset& d = murd_dataset();
  ASSERT_EQ(d.atom_count(), 2145u);
  TorchForceField ff(d);
  const torch::Tensor decoded = with_noise(decoded_frames(d, 0, 2), 0.05, d.std, 11);
  auto [energies, forces] = ff.energies_and_forces(decoded_to_nm(decoded, ff.scale(), torch::kFloat));
  for (std::int64_t b = 0; b < 2; ++b) {
    const EnergyResult ref = openmm_reference(d, decoded[b], "Reference");
    EXPECT_NEAR(energies[b].item<double>(), ref.total, 1e-4 * std::abs(ref.total)) << b;
    EXPECT_LT(relative_error(forces[b], forces_tensor(ref)), 1e-3) << b;
    // Atom by atom too, against the typical force.
    const double typical = forces_tensor(ref).norm(2, 1).mean().item<double>();
    EXPECT_LT((forces[b] - forces_tensor(ref)).norm(2, 1).max().item<double>(), 1e-3 * typical) << b;
  }
}

TEST(TorchForceField, AgreesWithOpenMMPathThroughAutograd) {
  const Dataset& d = nmr_dataset();
  PhysicsEnergy openmm(d, openmm_options("Reference", 1));
  TorchForceField ff(d);
  const torch::Tensor base = with_noise(decoded_frames(d, 20, 4), 0.1, d.std, 5);
  const torch::Tensor a = base.clone().requires_grad_(true), b = base.clone().requires_grad_(true);
  const torch::Tensor ea = openmm.energy(a), eb = ff.energy(b);
  EXPECT_LT(relative_error(eb, ea), 1e-5);
  nan_mean(ea).backward();
  nan_mean(eb).backward();
  EXPECT_LT(relative_error(b.grad(), a.grad()), 1e-4);
}

TEST(TorchForceField, KernelMatchesBlockedOps) {
  const Dataset& d = nmr_dataset();
  TorchForceField ff(d);
  const torch::Tensor x = decoded_to_nm(with_noise(decoded_frames(d, 0, 3), 0.3, d.std, 9), ff.scale());
  const SoftCoreParameters& p = ff.soft_core();
  for (int threads : {1, 2}) {  // with 2 threads the 3 structures run in parallel
    ThreadCount count(threads);
    auto [kernel_e, kernel_f] = soft_core_energies_and_forces(x, p);
    const torch::Tensor leaf = x.clone().requires_grad_(true);
    const torch::Tensor blocked = soft_core_energy_blocked(leaf, p, 37);
    const torch::Tensor blocked_f = -torch::autograd::grad({blocked.sum()}, {leaf})[0];
    EXPECT_LT(relative_error(kernel_e, blocked), 1e-12) << threads;
    EXPECT_LT(relative_error(kernel_f, blocked_f), 1e-10) << threads;
    // float32 pairs, double sums.
    auto [float_e, float_f] = soft_core_energies_and_forces(x.to(torch::kFloat), p);
    EXPECT_LT(relative_error(float_e, blocked), 1e-6);
    EXPECT_LT(relative_error(float_f, blocked_f), 1e-4);
  }
  // A batch of one with two threads splits the triangle in two.
  ThreadCount count(2);
  auto [one_e, one_f] = soft_core_energies_and_forces(x.slice(0, 1, 2), p);
  auto [all_e, all_f] = soft_core_energies_and_forces(x, p);
  EXPECT_NEAR(one_e[0].item<double>(), all_e[1].item<double>(), 1e-10 * all_e[1].item<double>());
  EXPECT_LT(relative_error(one_f[0], all_f[1]), 1e-12);
}

TEST(TorchForceField, BlockedSoftCoreIsTwiceDifferentiable) {
  const Dataset& d = nmr_dataset();
  TorchForceFieldOptions o;
  o.soft_core = SoftCoreMethod::Blocked;
  o.dtype = torch::kDouble;
  TorchForceField ff(d, o);
  const torch::Tensor x = decoded_to_nm(decoded_frames(d, 0, 1), ff.scale()).requires_grad_(true);
  const torch::Tensor g = torch::autograd::grad({ff.terms(x).total().sum()}, {x}, {}, true, true)[0];
  const torch::Tensor hv = torch::autograd::grad({g[0][3][1]}, {x})[0];  // a row of the Hessian
  EXPECT_TRUE(torch::isfinite(hv).all().item<bool>());
  EXPECT_GT(hv.abs().sum().item<double>(), 0.0);
}

// Bonds, angles and torsions with arbitrary phases (not just 0 and pi) and
// random geometry: checks the sign convention of the dihedral and the
// parameters' units against OpenMM on a hand-made System.
TEST(TorchForceField, BondedTermsMatchOpenMMOnRandomGeometry) {
  OpenMM::System system;
  const int n = 6;
  for (int i = 0; i < n; ++i) system.addParticle(12.0);
  auto* bonds = new OpenMM::HarmonicBondForce();
  system.addForce(bonds);
  auto* angles = new OpenMM::HarmonicAngleForce();
  system.addForce(angles);
  auto* torsions = new OpenMM::PeriodicTorsionForce();
  system.addForce(torsions);
  for (int i = 0; i + 1 < n; ++i) bonds->addBond(i, i + 1, 0.12 + 0.01 * i, 2e5 + 1e4 * i);
  for (int i = 0; i + 2 < n; ++i) angles->addAngle(i, i + 1, i + 2, 1.6 + 0.2 * i, 300.0 + 20 * i);
  torsions->addTorsion(0, 1, 2, 3, 1, 0.3, 5.0);
  torsions->addTorsion(1, 2, 3, 4, 2, 1.1, 3.0);
  torsions->addTorsion(2, 3, 4, 5, 3, -2.0, 7.0);
  torsions->addTorsion(0, 2, 1, 3, 2, 3.14159, 10.0);  // an improper-like order
  system.addForce(new OpenMM::CMMotionRemover());

  TorchForceFieldOptions o;
  o.dtype = torch::kDouble;
  TorchForceField ff(system, {}, o);
  EXPECT_FALSE(ff.has_soft_core());
  OpenMM::VerletIntegrator integrator(0.001);
  OpenMM::Context context(system, integrator, OpenMM::Platform::getPlatformByName("Reference"));
  std::mt19937 rng(4);
  std::normal_distribution<double> normal(0.0, 0.15);
  for (int trial = 0; trial < 5; ++trial) {
    std::vector<OpenMM::Vec3> positions;
    torch::Tensor xyz = torch::empty({1, n, 3}, torch::kDouble);
    for (int i = 0; i < n; ++i) {
      positions.emplace_back(normal(rng), normal(rng), normal(rng));
      for (int k = 0; k < 3; ++k) xyz[0][i][k] = positions.back()[k];
    }
    context.setPositions(positions);
    const OpenMM::State state = context.getState(OpenMM::State::Energy | OpenMM::State::Forces);
    auto [e, f] = ff.energies_and_forces(xyz);
    EXPECT_NEAR(e[0].item<double>(), state.getPotentialEnergy(), 1e-9 * std::abs(state.getPotentialEnergy()));
    torch::Tensor expected = torch::empty({n, 3}, torch::kDouble);
    for (int i = 0; i < n; ++i)
      for (int k = 0; k < 3; ++k) expected[i][k] = state.getForces()[i][k];
    EXPECT_LT(relative_error(f[0], expected), 1e-9) << "trial " << trial;
  }
}

// The `full` model (Coulomb + Lennard-Jones, exceptions) against OpenMM, on
// the reduced 2MI7 system (charged residues: Coulomb terms cancel), in both
// precisions, and through the loss's autograd path.
TEST(TorchForceField, FullModelMatchesOpenMM) {
  const Dataset& d = nmr_dataset();
  const torch::Tensor decoded = with_noise(decoded_frames(d, 4, 2), 0.1, d.std, 9);
  for (torch::Dtype dtype : {torch::kFloat, torch::kDouble}) {
    TorchForceFieldOptions o;
    o.nonbonded = NonbondedModel::Full;
    o.dtype = dtype;
    TorchForceField ff(d, o);
    ASSERT_TRUE(ff.has_coulomb_lennard_jones());
    EXPECT_FALSE(ff.has_soft_core());
    const torch::Tensor xyz = decoded_to_nm(decoded, ff.scale(), dtype);
    const TorchEnergyTerms terms = ff.terms(xyz);
    auto [energies, forces] = ff.energies_and_forces(xyz);
    for (std::int64_t b = 0; b < 2; ++b) {
      const EnergyResult ref = openmm_reference(d, decoded[b], "Reference", NonbondedModel::Full);
      const double nonbonded = group_energy(ref, "nonbonded");
      ASSERT_NE(nonbonded, 0.0);
      EXPECT_NEAR(terms.nonbonded[b].item<double>(), nonbonded, 1e-5 * std::abs(nonbonded)) << b;
      EXPECT_NEAR(energies[b].item<double>(), ref.total, 1e-4 * std::abs(ref.total)) << b;
      EXPECT_LT(relative_error(forces[b], forces_tensor(ref)), 1e-4) << b;
    }
  }
  // Through the loss: the same gradient as the OpenMM pool.
  PhysicsEnergyOptions po = openmm_options("Reference", 1);
  po.nonbonded = NonbondedModel::Full;
  PhysicsEnergy openmm(d, po);
  TorchForceFieldOptions o;
  o.nonbonded = NonbondedModel::Full;
  o.dtype = torch::kDouble;
  TorchForceField ff(d, o);
  const torch::Tensor a = decoded.clone().requires_grad_(true), b = decoded.clone().requires_grad_(true);
  const torch::Tensor ea = openmm.energy(a), eb = ff.energy(b);
  EXPECT_LT(relative_error(eb, ea), 1e-6);
  nan_mean(ea).backward();
  nan_mean(eb).backward();
  EXPECT_LT(relative_error(b.grad(), a.grad()), 1e-5);
}

TEST(TorchForceField, RefusesWhatItCannotCompute) {
  const Dataset& d = nmr_dataset();
  EXPECT_NO_THROW(TorchForceField(*dataset_system(d, NonbondedModel::Full)));
  {
    auto with_cutoff = dataset_system(d, NonbondedModel::Full);
    for (int i = 0; i < with_cutoff->getNumForces(); ++i)
      if (auto* nb = dynamic_cast<OpenMM::NonbondedForce*>(&with_cutoff->getForce(i)))
        nb->setNonbondedMethod(OpenMM::NonbondedForce::CutoffNonPeriodic);
    EXPECT_THROW(TorchForceField{*with_cutoff}, InputError);
  }
  OpenMM::System system;
  system.addParticle(1.0);
  auto* custom = new OpenMM::CustomNonbondedForce("r^2");
  custom->addParticle({});
  system.addForce(custom);
  EXPECT_THROW(TorchForceField{system}, InputError);
  TorchForceField ok(d);
  EXPECT_THROW(ok.energy(torch::zeros({1, 3, 10})), InputError);
  EXPECT_THROW(ok.terms(torch::zeros({1, 3, 326})), InputError);
}

// A System written by Python molearn spells the soft core as C/((r/0.2)^4+1);
// ours spells the same function with two squares (faster in OpenMM). The
// torch force field must accept both and read the same parameters (that the
// two spellings are the same function is checked by the OpenMM oracle).
TEST(TorchForceField, ReadsPythonMolearnSpellingOfTheSoftCore) {
  const Dataset& d = nmr_dataset();
  auto system = dataset_system(d, NonbondedModel::Soft);
  for (int i = 0; i < system->getNumForces(); ++i)
    if (auto* core = dynamic_cast<OpenMM::CustomNonbondedForce*>(&system->getForce(i)))
      core->setEnergyFunction(kMolearnSoftCoreExpression);
  TorchForceFieldOptions o;
  o.dtype = torch::kDouble;
  TorchForceField python_spelling(*system, {d.mean, d.std}, o);
  TorchForceField ours(d, o);
  const torch::Tensor decoded = with_noise(decoded_frames(d, 0, 2), 0.1, d.std, 3);
  const torch::Tensor e_python = python_spelling.energy(decoded), e_ours = ours.energy(decoded);
  EXPECT_LT(relative_error(e_python, e_ours), 1e-12);
  EXPECT_GT(python_spelling.terms(decoded_to_nm(decoded, python_spelling.scale(), torch::kDouble))
                .nonbonded.abs()
                .min()
                .item<double>(),
            1.0);
}

TEST(TorchForceField, BondedOnlyModel) {
  const Dataset& d = nmr_dataset();
  TorchForceFieldOptions o;
  o.nonbonded = NonbondedModel::None;
  TorchForceField ff(d, o);
  EXPECT_FALSE(ff.has_soft_core());
  const torch::Tensor decoded = decoded_frames(d, 1, 1);
  const EnergyResult ref = openmm_reference(d, decoded[0], "Reference", NonbondedModel::None);
  EXPECT_NEAR(ff.energy(decoded)[0].item<double>(), ref.total, 1e-5 * std::abs(ref.total));
}
