#include "molearn/physics/system_builder.hpp"

#include <OpenMM.h>

#include <cmath>

#include "molearn/core/error.hpp"
#include "molearn/physics/bond_graph.hpp"
#include "molearn/physics/bonded_terms.hpp"
#include "molearn/physics/implicit_solvent.hpp"

namespace molearn {

namespace {

void check_options(const ForceField& ff, const MatchedTopology& topology, const SystemOptions& options, bool implicit) {
  if (topology.size() == 0) throw InputError("the system has no atoms");
  if (!(options.nonbonded_cutoff_nm >= 0) || !std::isfinite(options.nonbonded_cutoff_nm))
    throw InputError("the non-bonded cutoff must be a distance >= 0 nm (0: no cutoff)");
  const double cutoff = options.nonbonded_cutoff_nm;
  if (cutoff > 0 && !(options.switch_width_nm >= 0 && options.switch_width_nm < cutoff))
    throw InputError("the switching width must be at least 0 and below the cutoff (" +
                     std::to_string(options.nonbonded_cutoff_nm) + " nm)");
  if (implicit && options.nonbonded != NonbondedModel::Full)
    throw InputError("implicit solvent needs the full non-bonded model (--nonbonded full)");
  if (implicit && topology.reduced)
    throw InputError("implicit solvent needs every atom of the residues; it is not defined for a reduced system");
  if (options.nonbonded == NonbondedModel::Full && !ff.nonbonded.present)
    throw InputError("the force field (" + ff.files.front() + ", ...) has no <NonbondedForce>");
}

std::vector<double> atom_charges(const ForceField& ff, const MatchedTopology& topology) {
  std::vector<double> charges(topology.size());
  for (std::size_t i = 0; i < topology.size(); ++i) {
    const MatchedAtom& atom = topology.atoms[i];
    const auto& p = ff.nonbonded.by_type[atom.type];
    if (p && p->charge)
      charges[i] = *p->charge;
    else if (atom.template_charge)
      charges[i] = *atom.template_charge;
    else
      throw InputError("no charge for an atom of type " + ff.types[atom.type].name +
                       ": neither its residue template nor the <NonbondedForce> gives one");
  }
  return charges;
}

OpenMM::Force* add_full_nonbonded(OpenMM::System& system, const ForceField& ff, const MatchedTopology& topology,
                                  const SystemOptions& options, const std::vector<double>& charges) {
  auto* force = new OpenMM::NonbondedForce();
  system.addForce(force);  // the System owns it from here
  for (std::size_t i = 0; i < topology.size(); ++i) {
    const auto& p = ff.nonbonded.by_type[topology.atoms[i].type];
    if (!p)
      throw InputError("the force field has no non-bonded parameters for atom type " +
                       ff.types[topology.atoms[i].type].name);
    force->addParticle(charges[i], p->sigma, p->epsilon);
  }
  std::vector<std::pair<int, int>> bonds;
  for (const auto& [a, b] : topology.bonds) bonds.emplace_back(a, b);
  // 1-2 and 1-3 pairs excluded, 1-4 pairs scaled by the file's factors.
  force->createExceptionsFromBonds(bonds, ff.nonbonded.coulomb14_scale, ff.nonbonded.lj14_scale);
  if (options.nonbonded_cutoff_nm > 0) {
    force->setNonbondedMethod(OpenMM::NonbondedForce::CutoffNonPeriodic);
    force->setCutoffDistance(options.nonbonded_cutoff_nm);
    if (options.switch_width_nm > 0) {
      force->setUseSwitchingFunction(true);
      force->setSwitchingDistance(options.nonbonded_cutoff_nm - options.switch_width_nm);
    }
  } else {
    force->setNonbondedMethod(OpenMM::NonbondedForce::NoCutoff);
  }
  return force;
}

OpenMM::Force* add_soft_core(OpenMM::System& system, const MatchedTopology& topology, const SystemOptions& options) {
  auto* force = new OpenMM::CustomNonbondedForce(kSoftCoreExpression);
  system.addForce(force);
  force->addGlobalParameter("C", options.soft_strength);
  for (std::size_t i = 0; i < topology.size(); ++i) force->addParticle({});
  const BondGraph graph(topology.size(), topology.bonds);
  for (const auto& [a, b] : graph.pairs_within_two_bonds()) force->addExclusion(a, b);
  if (options.nonbonded_cutoff_nm > 0) {
    force->setNonbondedMethod(OpenMM::CustomNonbondedForce::CutoffNonPeriodic);
    force->setCutoffDistance(options.nonbonded_cutoff_nm);
    if (options.switch_width_nm > 0) {
      force->setUseSwitchingFunction(true);
      force->setSwitchingDistance(options.nonbonded_cutoff_nm - options.switch_width_nm);
    }
  } else {
    force->setNonbondedMethod(OpenMM::CustomNonbondedForce::NoCutoff);
  }
  return force;
}

OpenMM::Force* add_implicit_solvent(OpenMM::System& system, const ForceField& ff, const MatchedTopology& topology,
                                    const SystemOptions& options, const std::vector<double>& charges) {
  auto* force = new OpenMM::GBSAOBCForce();
  system.addForce(force);
  for (const ObcParticle& p : obc2_parameters(ff, topology, charges)) force->addParticle(p.charge, p.radius, p.scale);
  if (options.nonbonded_cutoff_nm > 0) {
    force->setNonbondedMethod(OpenMM::GBSAOBCForce::CutoffNonPeriodic);
    force->setCutoffDistance(options.nonbonded_cutoff_nm);
  } else {
    force->setNonbondedMethod(OpenMM::GBSAOBCForce::NoCutoff);
  }
  return force;
}

}  // namespace

const char* force_group_name(int group) {
  switch (group) {
    case kBondGroup:
      return "bond";
    case kAngleGroup:
      return "angle";
    case kTorsionGroup:
      return "torsion";
    case kNonbondedGroup:
      return "nonbonded";
    case kImplicitGroup:
      return "gb";
    default:
      return "other";
  }
}

NonbondedModel parse_nonbonded_model(const std::string& name) {
  if (name == "none") return NonbondedModel::None;
  if (name == "soft") return NonbondedModel::Soft;
  if (name == "full") return NonbondedModel::Full;
  throw InputError("unknown non-bonded model '" + name + "' (choose none, soft or full)");
}

const char* nonbonded_model_name(NonbondedModel model) {
  switch (model) {
    case NonbondedModel::None:
      return "none";
    case NonbondedModel::Soft:
      return "soft";
    case NonbondedModel::Full:
      return "full";
  }
  return "?";
}

std::unique_ptr<OpenMM::System> build_system(const ForceField& ff, const MatchedTopology& topology,
                                             const SystemOptions& options) {
  const bool implicit = options.implicit_obc2 || ff.implicit_obc2 || ff.obc.present;
  check_options(ff, topology, options, implicit);
  auto system = std::make_unique<OpenMM::System>();
  for (const MatchedAtom& atom : topology.atoms) system->addParticle(ff.types[atom.type].mass);

  const BondedTerms terms = assign_bonded_terms(ff, topology);
  auto* bonds = new OpenMM::HarmonicBondForce();
  system->addForce(bonds);
  bonds->setForceGroup(kBondGroup);
  for (const BondTerm& b : terms.bonds) bonds->addBond(b.atoms[0], b.atoms[1], b.length, b.k);
  auto* angles = new OpenMM::HarmonicAngleForce();
  system->addForce(angles);
  angles->setForceGroup(kAngleGroup);
  for (const AngleTerm& a : terms.angles) angles->addAngle(a.atoms[0], a.atoms[1], a.atoms[2], a.angle, a.k);
  auto* torsions = new OpenMM::PeriodicTorsionForce();
  system->addForce(torsions);
  torsions->setForceGroup(kTorsionGroup);
  for (const TorsionTerm& t : terms.torsions)
    torsions->addTorsion(t.atoms[0], t.atoms[1], t.atoms[2], t.atoms[3], t.term.periodicity, t.term.phase, t.term.k);

  if (options.nonbonded == NonbondedModel::Full) {
    const std::vector<double> charges = atom_charges(ff, topology);
    auto* nonbonded = static_cast<OpenMM::NonbondedForce*>(add_full_nonbonded(*system, ff, topology, options, charges));
    nonbonded->setForceGroup(kNonbondedGroup);
    if (implicit) {
      // The reaction field is wrong next to generalised Born; OpenMM turns it
      // off the same way.
      nonbonded->setReactionFieldDielectric(1.0);
      add_implicit_solvent(*system, ff, topology, options, charges)->setForceGroup(kImplicitGroup);
    }
  } else if (options.nonbonded == NonbondedModel::Soft) {
    add_soft_core(*system, topology, options)->setForceGroup(kNonbondedGroup);
  }
  return system;
}

}  // namespace molearn
