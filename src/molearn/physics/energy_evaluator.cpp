#include "molearn/physics/energy_evaluator.hpp"

#include <OpenMM.h>

#include <cmath>
#include <set>

#include "molearn/core/error.hpp"
#include "molearn/physics/openmm_platform.hpp"
#include "molearn/physics/system_builder.hpp"

namespace molearn {

bool EnergyResult::energies_finite() const {
  if (!std::isfinite(total)) return false;
  for (const GroupEnergy& g : groups)
    if (!std::isfinite(g.energy)) return false;
  return true;
}

bool EnergyResult::forces_finite() const {
  for (double f : forces)
    if (!std::isfinite(f)) return false;
  return true;
}

EnergyEvaluator::EnergyEvaluator(std::unique_ptr<OpenMM::System> system, const std::string& platform)
    : system_(std::move(system)) {
  if (!system_ || system_->getNumParticles() == 0) throw InputError("energy evaluation: the system has no atoms");
  platform_ = resolve_platform_name(platform, *system_);
  OpenMM::Platform& p = openmm_platform(platform_);
  std::set<int> groups;
  for (int i = 0; i < system_->getNumForces(); ++i) groups.insert(system_->getForce(i).getForceGroup());
  groups_.assign(groups.begin(), groups.end());
  // The integrator is never stepped; a Context needs one.
  integrator_ = std::make_unique<OpenMM::VerletIntegrator>(0.001);
  context_ = std::make_unique<OpenMM::Context>(*system_, *integrator_, p);
}

EnergyEvaluator::~EnergyEvaluator() = default;

std::size_t EnergyEvaluator::atom_count() const { return static_cast<std::size_t>(system_->getNumParticles()); }

EnergyResult EnergyEvaluator::evaluate(std::span<const float> xyz_angstrom, bool with_forces) {
  std::vector<double> xyz(xyz_angstrom.begin(), xyz_angstrom.end());
  return evaluate(std::span<const double>(xyz), with_forces);
}

EnergyResult EnergyEvaluator::evaluate(std::span<const double> xyz_angstrom, bool with_forces) {
  const std::size_t n = atom_count();
  if (xyz_angstrom.size() != 3 * n)
    throw InputError("energy evaluation: " + std::to_string(xyz_angstrom.size() / 3) + " atoms given, the system has " +
                     std::to_string(n));
  std::vector<OpenMM::Vec3> positions(n);
  for (std::size_t i = 0; i < n; ++i) {
    for (int k = 0; k < 3; ++k)
      if (!std::isfinite(xyz_angstrom[3 * i + k]))
        throw InputError("energy evaluation: atom " + std::to_string(i + 1) + " has a non-finite coordinate");
    positions[i] = OpenMM::Vec3(xyz_angstrom[3 * i], xyz_angstrom[3 * i + 1], xyz_angstrom[3 * i + 2]) * 0.1;
  }
  context_->setPositions(positions);

  EnergyResult result;
  if (with_forces) result.forces.assign(3 * n, 0.0);
  const int types = OpenMM::State::Energy | (with_forces ? OpenMM::State::Forces : 0);
  // One group at a time: every group is computed once, and the per-group
  // forces add up to the total.
  for (int group : groups_) {
    const OpenMM::State state = context_->getState(types, false, 1 << group);
    const double energy = state.getPotentialEnergy();
    result.groups.push_back({force_group_name(group), group, energy});
    result.total += energy;
    if (with_forces) {
      const std::vector<OpenMM::Vec3>& f = state.getForces();
      for (std::size_t i = 0; i < n; ++i)
        for (int k = 0; k < 3; ++k) result.forces[3 * i + k] += f[i][k];
    }
  }
  return result;
}

}  // namespace molearn
