#include "molearn/physics/relaxation.hpp"

#include <OpenMM.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <tuple>

#include "molearn/core/error.hpp"
#include "molearn/physics/openmm_platform.hpp"
#include "molearn/physics/openmm_positions.hpp"

namespace molearn {

namespace {

void check(const RelaxOptions& o) {
  if (o.minimize_iterations < 0) throw InputError("--steps must not be negative");
  if (o.md_steps < 0) throw InputError("--md-steps must not be negative");
  if (!(o.tolerance > 0)) throw InputError("--tolerance must be positive");
  if (!(o.temperature_k > 0)) throw InputError("--temperature must be positive");
  if (!(o.timestep_fs > 0 && o.timestep_fs <= 5)) throw InputError("--timestep must be in (0, 5] fs");
}

}  // namespace

Relaxer::Relaxer(std::unique_ptr<OpenMM::System> system, const RelaxOptions& options)
    : options_(options), system_(std::move(system)) {
  check(options_);
  auto integrator = std::make_unique<OpenMM::LangevinMiddleIntegrator>(options_.temperature_k, options_.friction_per_ps,
                                                                       options_.timestep_fs / 1000.0);
  integrator->setRandomNumberSeed(options_.seed);
  integrator_ = std::move(integrator);
  context_ = std::make_unique<OpenMM::Context>(*system_, *integrator_,
                                               openmm_platform(resolve_platform_name(options_.platform, *system_)));
}

Relaxer::~Relaxer() = default;

double Relaxer::potential_energy() { return context_->getState(OpenMM::State::Energy).getPotentialEnergy(); }

namespace {

constexpr double kSeparationNm = 0.001;  // 0.01 Å

// OpenMM computes angles and pair directions from r/|r|, which is NaN when two
// atoms coincide: generated structures rounded to a PDB's 0.001 Å can contain
// such pairs (a collapsed peptide bond), and the minimiser cannot move them
// apart. Every atom after the first at the same position is shifted by a
// different multiple of 0.01 Å along (1, 2, 3), so no two coincide; the
// minimiser then restores the bond. Returns how many atoms moved.
std::size_t separate_coincident_atoms(std::vector<OpenMM::Vec3>& positions) {
  std::vector<std::size_t> order(positions.size());
  std::iota(order.begin(), order.end(), std::size_t{0});
  auto key = [&](std::size_t i) { return std::tuple(positions[i][0], positions[i][1], positions[i][2]); };
  std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return key(a) < key(b); });
  const OpenMM::Vec3 direction = OpenMM::Vec3(1, 2, 3) / std::sqrt(14.0);
  std::size_t moved = 0, run = 0;
  for (std::size_t k = 1; k < order.size(); ++k) {
    run = key(order[k]) == key(order[k - 1]) ? run + 1 : 0;
    if (run == 0) continue;
    positions[order[k]] += direction * (kSeparationNm * static_cast<double>(run));
    ++moved;
  }
  return moved;
}

}  // namespace

RelaxResult Relaxer::relax(std::span<const float> xyz_angstrom) {
  const auto n = static_cast<std::size_t>(system_->getNumParticles());
  if (xyz_angstrom.size() != 3 * n)
    throw InputError("relax: the structure has " + std::to_string(xyz_angstrom.size() / 3) + " atoms, the system " +
                     std::to_string(n));
  std::vector<OpenMM::Vec3> positions;
  try {
    positions = openmm_positions(xyz_angstrom);
  } catch (const InputError& e) {
    throw InputError(std::string("relax: ") + e.what());
  }
  RelaxResult result;
  result.separated_atoms = separate_coincident_atoms(positions);
  context_->setPositions(positions);
  result.energy_before = potential_energy();
  OpenMM::LocalEnergyMinimizer::minimize(*context_, options_.tolerance, options_.minimize_iterations);
  if (options_.md_steps > 0) {
    // Velocities are drawn only now: OpenMM 7.7's minimiser works through the
    // context's integrator and leaves whatever velocities were set before it
    // far from the temperature asked for, which made the dynamics blow up.
    context_->setVelocitiesToTemperature(options_.temperature_k, options_.seed);
    integrator_->step(options_.md_steps);
  }
  const OpenMM::State state = context_->getState(OpenMM::State::Positions | OpenMM::State::Energy);
  result.energy_after = state.getPotentialEnergy();
  if (!std::isfinite(result.energy_after))
    throw Error(
        "relax: the energy is not finite after minimisation (atoms on top of each other? try "
        "--nonbonded soft)");
  result.xyz_angstrom = angstrom_coordinates(state.getPositions());
  return result;
}

}  // namespace molearn
