// Builds an OpenMM System from a matched topology: bonded terms from the force
// field, a choice of non-bonded model, optional OBC2 implicit solvent. Every
// kind of term has its own force group, so energies can be split by term.
#pragma once

#include <memory>
#include <string>

#include "molearn/physics/forcefield.hpp"
#include "molearn/physics/template_matching.hpp"

namespace OpenMM {
class System;
}

namespace molearn {

// Force groups of the systems molearn builds.
enum ForceGroup : int {
  kBondGroup = 0,       // HarmonicBondForce
  kAngleGroup = 1,      // HarmonicAngleForce
  kTorsionGroup = 2,    // PeriodicTorsionForce: propers and impropers
  kNonbondedGroup = 3,  // NonbondedForce (full) or CustomNonbondedForce (soft)
  kImplicitGroup = 4,   // GBSAOBCForce
};
inline constexpr int kForceGroupCount = 5;
// "bond", "angle", "torsion", "nonbonded", "gb".
const char* force_group_name(int group);

enum class NonbondedModel {
  None,  // bonded terms only
  // Python molearn's physics-loss default: a soft-core repulsion between
  // every pair of atoms more than two bonds apart, finite when atoms overlap.
  Soft,
  Full,  // the force field's Coulomb and Lennard-Jones, 1-4 pairs scaled
};
// Parses "none", "soft" or "full". Throws InputError.
NonbondedModel parse_nonbonded_model(const std::string& name);
const char* nonbonded_model_name(NonbondedModel model);

// The soft-core energy of a pair at distance r (nm): C / ((r/0.2)^4 + 1),
// with C = 1 kJ/mol: the script `soft_xml_script` in Python molearn's
// molearn/trainers/openmm_physics_trainer.py (Degiacomi-Lab/molearn), which
// sets the global parameter C to 1.0 and excludes 1-2 and 1-3 pairs.
inline constexpr const char* kMolearnSoftCoreExpression = "C/((r/0.2)^4+1)";
// The same function as OpenMM evaluates it for us: Lepton turns x^2 into a
// multiplication but r^4 into pow(), so two squares make each pair 1.6x
// cheaper on OpenMM 7.7's CPU and Reference platforms (measured on MurD).
inline constexpr const char* kSoftCoreExpression = "C/(1+u^2); u=(r/0.2)^2";
inline constexpr double kSoftCoreStrength = 1.0;  // C, kJ/mol

struct SystemOptions {
  NonbondedModel nonbonded = NonbondedModel::Full;
  // OBC2 generalised Born implicit solvent (Amber igb=5, with the ACE surface
  // term), as OpenMM's implicit/obc2.xml: mbondi2 radii and the standard
  // screening factors, unless the force field has a <GBSAOBCForce>. Needs a
  // full-atom system and the full non-bonded model. Also switched on by
  // reading implicit/obc2.xml or a file with a <GBSAOBCForce>.
  bool implicit_obc2 = false;
  // Non-bonded cutoff (nm); 0 computes every pair (OpenMM's NoCutoff). With a
  // cutoff: CutoffNonPeriodic, energies switched off smoothly from
  // cutoff - switch_width to the cutoff (Lennard-Jones and soft core; Coulomb
  // uses OpenMM's reaction field). The default is no cutoff: on MurD a 1.5 nm
  // cutoff costs the soft core ~0.9% of its forces and an energy error that
  // varies between conformations, Coulomb 10-20% of its forces (measurements
  // in docs/physics.md).
  double nonbonded_cutoff_nm = 0;
  double switch_width_nm = 0.1;
  double soft_strength = kSoftCoreStrength;  // C of the soft core, kJ/mol
};

// Throws InputError when an atom type has no parameters the chosen model
// needs, or the options do not fit the topology (implicit solvent on a
// reduced system, a switch width not below the cutoff, ...).
std::unique_ptr<OpenMM::System> build_system(const ForceField& ff, const MatchedTopology& topology,
                                             const SystemOptions& options);

}  // namespace molearn
