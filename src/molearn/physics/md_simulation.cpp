#include "molearn/physics/md_simulation.hpp"

#include <OpenMM.h>

#include <cmath>

#include "molearn/core/error.hpp"
#include "molearn/physics/forcefield.hpp"
#include "molearn/physics/openmm_platform.hpp"
#include "molearn/physics/openmm_positions.hpp"
#include "molearn/physics/template_matching.hpp"

namespace molearn {

namespace {

constexpr double kBoltzmann = 0.00831446261815324;  // kJ/mol/K

OpenMM::HarmonicBondForce* bond_force(OpenMM::System& system) {
  for (int i = 0; i < system.getNumForces(); ++i)
    if (auto* f = dynamic_cast<OpenMM::HarmonicBondForce*>(&system.getForce(i))) return f;
  return nullptr;
}

std::string platform_for(const std::string& requested) {
  // For dynamics the CPU platform's threads win over the Reference platform
  // whatever the non-bonded model (resolve_platform_name's measurements are
  // for one energy evaluation per structure).
  return requested == "auto" ? "CPU" : requested;
}

std::map<std::string, std::string> platform_properties(const std::string& platform, int threads) {
  if (platform == "CPU" && threads > 0) return {{"Threads", std::to_string(threads)}};
  return {};
}

}  // namespace

void check_md_options(const MdOptions& o) {
  if (!(o.temperature_k > 0 && o.temperature_k <= 2000)) throw InputError("--temperature must be in (0, 2000] K");
  if (!(o.timestep_fs > 0 && o.timestep_fs <= 5)) throw InputError("--timestep must be in (0, 5] fs");
  if (!(o.friction_per_ps > 0 && o.friction_per_ps <= 1000)) throw InputError("--friction must be in (0, 1000] /ps");
  if (!(o.hydrogen_mass == 0 || (o.hydrogen_mass >= 1 && o.hydrogen_mass <= 5)))
    throw InputError("--hydrogen-mass must be 0 (unchanged) or in [1, 5] daltons");
  if (!(o.minimise_tolerance > 0)) throw InputError("the minimiser's tolerance must be positive");
  if (o.minimise_iterations < 0) throw InputError("the minimiser's iterations must not be negative");
  if (o.platform != "auto" && o.platform != "CPU" && o.platform != "Reference")
    throw InputError("--platform must be auto, CPU or Reference");
}

std::vector<bool> hydrogen_atoms(const ForceField& ff, const MatchedTopology& topology) {
  std::vector<bool> hydrogen(topology.size());
  for (std::size_t i = 0; i < topology.size(); ++i) hydrogen[i] = ff.types[topology.atoms[i].type].element == "H";
  return hydrogen;
}

int constrain_bonds_to_hydrogens(OpenMM::System& system, const std::vector<bool>& is_hydrogen) {
  OpenMM::HarmonicBondForce* bonds = bond_force(system);
  if (!bonds) return 0;
  int constrained = 0;
  for (int i = 0; i < bonds->getNumBonds(); ++i) {
    int a = 0, b = 0;
    double length = 0, k = 0;
    bonds->getBondParameters(i, a, b, length, k);
    if (!is_hydrogen[a] && !is_hydrogen[b]) continue;
    system.addConstraint(a, b, length);
    bonds->setBondParameters(i, a, b, length, 0.0);
    ++constrained;
  }
  return constrained;
}

void repartition_hydrogen_mass(OpenMM::System& system, const MatchedTopology& topology,
                               const std::vector<bool>& is_hydrogen, double hydrogen_mass) {
  for (auto [a, b] : topology.bonds) {
    if (is_hydrogen[a]) std::swap(a, b);
    if (is_hydrogen[a] || !is_hydrogen[b]) continue;  // only heavy atom - hydrogen bonds
    const double transfer = hydrogen_mass - system.getParticleMass(b);
    const double heavy = system.getParticleMass(a) - transfer;
    if (heavy < 1.0)
      throw InputError("--hydrogen-mass " + std::to_string(hydrogen_mass) + " leaves atom " + std::to_string(a + 1) +
                       " lighter than 1 dalton");
    system.setParticleMass(b, hydrogen_mass);
    system.setParticleMass(a, heavy);
  }
}

void minimise_some_atoms(OpenMM::System& system, std::vector<float>& xyz_angstrom,
                         const std::vector<std::size_t>& movable, const std::string& platform, int threads) {
  if (movable.empty()) return;
  if (system.getNumConstraints() > 0) throw Error("minimise_some_atoms: the system must have no constraints");
  std::vector<bool> moves(system.getNumParticles(), false);
  for (std::size_t i : movable) moves.at(i) = true;
  // OpenMM's minimiser leaves massless particles where they are.
  for (int i = 0; i < system.getNumParticles(); ++i)
    if (!moves[i]) system.setParticleMass(i, 0.0);
  OpenMM::VerletIntegrator integrator(0.001);
  const std::string name = platform_for(platform);
  OpenMM::Context context(system, integrator, openmm_platform(name), platform_properties(name, threads));
  context.setPositions(openmm_positions(xyz_angstrom));
  // Modeller's settings after addHydrogens: tolerance 1 kJ/mol/nm, 50 steps.
  OpenMM::LocalEnergyMinimizer::minimize(context, 1.0, 50);
  xyz_angstrom = angstrom_coordinates(context.getState(OpenMM::State::Positions).getPositions());
}

MolecularDynamics::MolecularDynamics(std::unique_ptr<OpenMM::System> system, std::span<const float> xyz_angstrom,
                                     const MdOptions& options)
    : options_(options), system_(std::move(system)) {
  check_md_options(options_);
  if (xyz_angstrom.size() != 3 * static_cast<std::size_t>(system_->getNumParticles()))
    throw InputError("the structure has " + std::to_string(xyz_angstrom.size() / 3) + " atoms, the system " +
                     std::to_string(system_->getNumParticles()));
  system_->addForce(new OpenMM::CMMotionRemover(1));  // as OpenMM's createSystem(removeCMMotion=True)
  int moving = 0;
  for (int i = 0; i < system_->getNumParticles(); ++i) moving += system_->getParticleMass(i) > 0;
  degrees_of_freedom_ = 3 * moving - system_->getNumConstraints() - 3;
  auto integrator = std::make_unique<OpenMM::LangevinMiddleIntegrator>(options_.temperature_k, options_.friction_per_ps,
                                                                       options_.timestep_fs / 1000.0);
  integrator->setRandomNumberSeed(options_.seed);
  integrator_ = std::move(integrator);
  platform_name_ = platform_for(options_.platform);
  context_ = std::make_unique<OpenMM::Context>(*system_, *integrator_, openmm_platform(platform_name_),
                                               platform_properties(platform_name_, options_.threads));
  context_->setPositions(openmm_positions(xyz_angstrom));
}

MolecularDynamics::~MolecularDynamics() = default;

double MolecularDynamics::potential_energy() { return context_->getState(OpenMM::State::Energy).getPotentialEnergy(); }

double MolecularDynamics::temperature() {
  if (degrees_of_freedom_ <= 0) return 0;
  return 2 * context_->getState(OpenMM::State::Energy).getKineticEnergy() / (degrees_of_freedom_ * kBoltzmann);
}

void MolecularDynamics::minimise() {
  try {
    OpenMM::LocalEnergyMinimizer::minimize(*context_, options_.minimise_tolerance, options_.minimise_iterations);
  } catch (const OpenMM::OpenMMException& e) {
    throw SimulationError(std::string("the minimisation failed (") + e.what() + "): atoms on top of each other?");
  }
}

void MolecularDynamics::start_dynamics() {
  context_->setVelocitiesToTemperature(options_.temperature_k, options_.seed);
}

void MolecularDynamics::step(int steps) {
  try {
    integrator_->step(steps);
  } catch (const OpenMM::OpenMMException& e) {
    // OpenMM stops on NaN coordinates ("Particle coordinate is nan") part
    // way through; the step count of the context says where.
    steps_done_ = context_->getStepCount();
    throw SimulationError(e.what());
  }
  steps_done_ += steps;
}

void MolecularDynamics::save_checkpoint(std::ostream& out) { context_->createCheckpoint(out); }

void MolecularDynamics::load_checkpoint(std::istream& in) {
  try {
    context_->loadCheckpoint(in);
  } catch (const OpenMM::OpenMMException& e) {
    throw FormatError(std::string("the checkpoint does not fit this system or platform: ") + e.what());
  }
  steps_done_ = context_->getStepCount();
}

std::vector<float> MolecularDynamics::positions_angstrom() {
  return angstrom_coordinates(context_->getState(OpenMM::State::Positions).getPositions());
}

}  // namespace molearn
