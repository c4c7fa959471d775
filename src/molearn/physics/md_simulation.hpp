// Molecular dynamics with OpenMM: what `molearn simulate` runs. Bonds to
// hydrogen are constrained, hydrogen masses can be repartitioned so that a
// 4 fs step stays stable, the structure is minimised, then Langevin dynamics
// (OpenMM's LangevinMiddleIntegrator) runs in chunks, so that callers can
// write frames, show progress and stop between chunks.
#pragma once

#include <cstdint>
#include <iosfwd>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "molearn/core/error.hpp"

namespace OpenMM {
class Context;
class Integrator;
class System;
}  // namespace OpenMM

namespace molearn {

struct MatchedTopology;
struct ForceField;

struct MdOptions {
  double temperature_k = 300;
  double timestep_fs = 2;
  double friction_per_ps = 1;
  // Mass of every hydrogen bonded to a heavy atom, taken from that atom
  // (daltons); 0 leaves the force field's masses.
  double hydrogen_mass = 0;
  int seed = 1;                    // Langevin thermostat and initial velocities
  std::string platform = "auto";   // auto (CPU), CPU or Reference
  int threads = 0;                 // CPU platform threads; 0: OpenMM's default (every core)
  double minimise_tolerance = 10;  // kJ/mol/nm
  int minimise_iterations = 0;     // 0: until converged
};

// Throws InputError naming the option when an option is out of range.
void check_md_options(const MdOptions& options);

// Adds a constraint for every bond to a hydrogen, at the force field's length,
// and switches its harmonic term off: OpenMM's constraints=HBonds, whose
// energies leave those bonds out. Returns how many bonds were constrained.
int constrain_bonds_to_hydrogens(OpenMM::System& system, const std::vector<bool>& is_hydrogen);

// Sets every hydrogen bonded to a heavy atom to `hydrogen_mass` daltons and
// takes the difference from the heavy atom (OpenMM's hydrogenMass option).
// Throws InputError when a heavy atom would be left with less than 1 dalton.
void repartition_hydrogen_mass(OpenMM::System& system, const MatchedTopology& topology,
                               const std::vector<bool>& is_hydrogen, double hydrogen_mass);

// Moves only the atoms listed in `movable` to a minimum of `system`'s energy
// with every other atom held still (their masses set to 0, as Modeller does
// after adding hydrogens). `system` must have no constraints. Coordinates in Å.
void minimise_some_atoms(OpenMM::System& system, std::vector<float>& xyz_angstrom,
                         const std::vector<std::size_t>& movable, const std::string& platform, int threads);

// Whether each atom of a matched system is a hydrogen (by its atom type).
std::vector<bool> hydrogen_atoms(const ForceField& ff, const MatchedTopology& topology);

// The dynamics or the minimisation broke down (NaN coordinates).
class SimulationError : public Error {
 public:
  using Error::Error;
};

class MolecularDynamics {
 public:
  // Takes a System ready to run (constraints and masses set). Coordinates in
  // Å. Throws InputError for bad options or an unavailable platform.
  MolecularDynamics(std::unique_ptr<OpenMM::System> system, std::span<const float> xyz_angstrom,
                    const MdOptions& options);
  ~MolecularDynamics();
  MolecularDynamics(const MolecularDynamics&) = delete;
  MolecularDynamics& operator=(const MolecularDynamics&) = delete;

  double potential_energy();  // kJ/mol
  // Kinetic temperature from the velocities and the degrees of freedom left
  // by the constraints and the centre-of-mass motion remover.
  double temperature();
  void minimise();
  // Draws velocities at the temperature (after minimising: OpenMM 7.7's
  // minimiser leaves the velocities set before it far off).
  void start_dynamics();
  // Throws SimulationError when OpenMM stops on NaN coordinates.
  void step(int steps);
  std::int64_t steps_done() const { return steps_done_; }
  std::vector<float> positions_angstrom();
  // OpenMM's checkpoint of the whole state (positions, velocities, step
  // count, the thermostat's random state): binary, for the same platform and
  // OpenMM version. Loading it continues the run exactly where it was saved.
  void save_checkpoint(std::ostream& out);
  void load_checkpoint(std::istream& in);
  const std::string& platform_name() const { return platform_name_; }

 private:
  MdOptions options_;
  std::unique_ptr<OpenMM::System> system_;
  std::unique_ptr<OpenMM::Integrator> integrator_;
  std::unique_ptr<OpenMM::Context> context_;
  std::string platform_name_;
  std::int64_t steps_done_ = 0;
  int degrees_of_freedom_ = 0;
};

}  // namespace molearn
