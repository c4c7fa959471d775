// Refinement of generated conformers with the force field: energy
// minimisation (OpenMM's LocalEnergyMinimizer, L-BFGS) and, optionally, short
// Langevin dynamics, so that generated structures can be checked or refined by
// simulation.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

namespace OpenMM {
class Context;
class Integrator;
class System;
}  // namespace OpenMM

namespace molearn {

struct RelaxOptions {
  // 0: until converged. Generated structures need it: a fixed budget leaves
  // some with stretched bonds (issue 18's demo path kept a 5 Å bond after 200).
  int minimize_iterations = 0;
  double tolerance = 10.0;  // kJ/mol/nm, OpenMM's convergence criterion on the force
  int md_steps = 0;         // Langevin steps after minimisation
  double temperature_k = 300.0;
  double timestep_fs = 1.0;  // 1 fs: generated models have no constraints
  double friction_per_ps = 1.0;
  int seed = 1;                   // Langevin random seed (0 lets OpenMM choose)
  std::string platform = "auto";  // see resolve_platform_name
};

struct RelaxResult {
  std::vector<float> xyz_angstrom;
  double energy_before = 0;  // kJ/mol, after separating coincident atoms (NaN before that)
  double energy_after = 0;
  // Atoms that sat exactly on another atom and were moved 0.01 Å apart first
  // (see separate_coincident_atoms).
  std::size_t separated_atoms = 0;
};

// Owns a System and a Context; relaxes one conformation at a time.
class Relaxer {
 public:
  // Throws InputError for invalid options or an unavailable platform.
  Relaxer(std::unique_ptr<OpenMM::System> system, const RelaxOptions& options);
  ~Relaxer();
  Relaxer(const Relaxer&) = delete;
  Relaxer& operator=(const Relaxer&) = delete;

  // Coordinates in Å. Throws InputError on a wrong atom count or non-finite
  // coordinates, and Error when the energy diverges (atoms on top of each
  // other under a non-bonded model without a soft core).
  RelaxResult relax(std::span<const float> xyz_angstrom);

 private:
  double potential_energy();

  RelaxOptions options_;
  std::unique_ptr<OpenMM::System> system_;
  std::unique_ptr<OpenMM::Integrator> integrator_;
  std::unique_ptr<OpenMM::Context> context_;
};

}  // namespace molearn
