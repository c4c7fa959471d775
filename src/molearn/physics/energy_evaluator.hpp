// Potential energy and forces of conformations under an OpenMM System.
#pragma once

#include <cstddef>
#include <memory>
#include <span>
#include <string>
#include <vector>

namespace OpenMM {
class Context;
class System;
class VerletIntegrator;
}  // namespace OpenMM

namespace molearn {

struct GroupEnergy {
  std::string name;  // force_group_name(): "bond", "angle", ...
  int group = 0;
  double energy = 0;  // kJ/mol
};

struct EnergyResult {
  double total = 0;                 // kJ/mol, the sum of the groups
  std::vector<GroupEnergy> groups;  // the force groups the system uses, in group order
  std::vector<double> forces;       // kJ/mol/nm, x y z per atom; empty unless asked for
  // Atoms on top of each other: the full non-bonded model diverges (Coulomb
  // and Lennard-Jones energies are infinite or NaN); the soft core and the
  // bonded terms keep finite energies, but OpenMM computes the direction of
  // a pair force as delta/r, so forces between exactly coincident atoms are
  // NaN under every model. Nothing is thrown; these say what happened.
  bool energies_finite() const;
  bool forces_finite() const;
  bool finite() const { return energies_finite() && forces_finite(); }
};

// Owns a System and an OpenMM Context on one platform. Not thread-safe: one
// evaluator per thread.
class EnergyEvaluator {
 public:
  // `platform`: "auto" (resolve_platform_name), "CPU" or "Reference"
  // (double precision). Throws InputError for an unavailable platform.
  explicit EnergyEvaluator(std::unique_ptr<OpenMM::System> system, const std::string& platform = "auto");
  ~EnergyEvaluator();
  EnergyEvaluator(const EnergyEvaluator&) = delete;
  EnergyEvaluator& operator=(const EnergyEvaluator&) = delete;

  std::size_t atom_count() const;
  const OpenMM::System& system() const { return *system_; }
  const std::string& platform() const { return platform_; }

  // Coordinates in Å, x y z per atom (converted to nm for OpenMM). Each force
  // group is computed once. Throws InputError when the count is wrong or a
  // coordinate is not finite.
  EnergyResult evaluate(std::span<const float> xyz_angstrom, bool with_forces = false);
  EnergyResult evaluate(std::span<const double> xyz_angstrom, bool with_forces = false);

 private:
  std::unique_ptr<OpenMM::System> system_;
  std::unique_ptr<OpenMM::VerletIntegrator> integrator_;
  std::unique_ptr<OpenMM::Context> context_;
  std::vector<int> groups_;
  std::string platform_;
};

}  // namespace molearn
