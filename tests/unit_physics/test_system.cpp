// Building OpenMM Systems and evaluating energies: force groups, non-bonded
// models, implicit solvent, cutoffs, XML files, overlapping atoms, forces.
#include <gtest/gtest.h>

#include <OpenMM.h>
#include <openmm/serialization/XmlSerializer.h>

#include <cmath>
#include <fstream>
#include <sstream>

#include "molearn/core/error.hpp"
#include "molearn/physics/bond_graph.hpp"
#include "molearn/physics/energy_evaluator.hpp"
#include "molearn/physics/openmm_platform.hpp"
#include "molearn/physics/structure_matching.hpp"
#include "molearn/physics/system_builder.hpp"
#include "molearn/physics/system_xml.hpp"
#include "physics_test_support.hpp"

namespace molearn {
namespace {

const ForceField& amber() {
  static const ForceField ff = read_forcefield(kDefaultForceField);
  return ff;
}

const test::Structure& villin() {
  static const test::Structure s = test::read_structure(test::villin_path());
  return s;
}

// Coordinates of the matched atoms, in system order.
std::vector<float> system_xyz(const MatchedTopology& m, const std::vector<float>& xyz) {
  std::vector<float> out;
  for (const MatchedAtom& a : m.atoms) out.insert(out.end(), &xyz[3 * a.source], &xyz[3 * a.source] + 3);
  return out;
}

template <class F>
const F* find_force(const OpenMM::System& system) {
  for (int i = 0; i < system.getNumForces(); ++i)
    if (auto* f = dynamic_cast<const F*>(&system.getForce(i))) return f;
  return nullptr;
}

TEST(SystemBuilder, ForceGroupsOfEachModel) {
  const MatchedTopology m = match_structure(amber(), villin().topology, villin().xyz);
  SystemOptions options;
  auto full = build_system(amber(), m, options);
  EXPECT_EQ(full->getNumParticles(), 582);
  ASSERT_NE(find_force<OpenMM::HarmonicBondForce>(*full), nullptr);
  EXPECT_EQ(find_force<OpenMM::HarmonicBondForce>(*full)->getForceGroup(), kBondGroup);
  EXPECT_EQ(find_force<OpenMM::HarmonicAngleForce>(*full)->getForceGroup(), kAngleGroup);
  EXPECT_EQ(find_force<OpenMM::PeriodicTorsionForce>(*full)->getForceGroup(), kTorsionGroup);
  const auto* nonbonded = find_force<OpenMM::NonbondedForce>(*full);
  ASSERT_NE(nonbonded, nullptr);
  EXPECT_EQ(nonbonded->getForceGroup(), kNonbondedGroup);
  EXPECT_EQ(nonbonded->getNonbondedMethod(), OpenMM::NonbondedForce::NoCutoff);
  EXPECT_EQ(find_force<OpenMM::GBSAOBCForce>(*full), nullptr);

  options.implicit_obc2 = true;
  auto implicit = build_system(amber(), m, options);
  ASSERT_NE(find_force<OpenMM::GBSAOBCForce>(*implicit), nullptr);
  EXPECT_EQ(find_force<OpenMM::GBSAOBCForce>(*implicit)->getForceGroup(), kImplicitGroup);
  EXPECT_DOUBLE_EQ(find_force<OpenMM::NonbondedForce>(*implicit)->getReactionFieldDielectric(), 1.0);
  // mbondi2: H on N 1.3 A, H on C 1.2 A; the first atom is the N-terminal N.
  double charge, radius, scale;
  find_force<OpenMM::GBSAOBCForce>(*implicit)->getParticleParameters(0, charge, radius, scale);
  EXPECT_DOUBLE_EQ(radius, 0.155);
  EXPECT_DOUBLE_EQ(scale, 0.79);
  find_force<OpenMM::GBSAOBCForce>(*implicit)->getParticleParameters(1, charge, radius, scale);
  EXPECT_DOUBLE_EQ(radius, 0.13);

  options = {};
  options.nonbonded = NonbondedModel::Soft;
  auto soft = build_system(amber(), m, options);
  EXPECT_EQ(find_force<OpenMM::NonbondedForce>(*soft), nullptr);
  const auto* core = find_force<OpenMM::CustomNonbondedForce>(*soft);
  ASSERT_NE(core, nullptr);
  EXPECT_EQ(core->getEnergyFunction(), kSoftCoreExpression);
  EXPECT_EQ(core->getGlobalParameterName(0), "C");
  EXPECT_DOUBLE_EQ(core->getGlobalParameterDefaultValue(0), 1.0);
  EXPECT_EQ(static_cast<std::size_t>(core->getNumExclusions()),
            BondGraph(m.size(), m.bonds).pairs_within_two_bonds().size());

  options.nonbonded = NonbondedModel::None;
  auto none = build_system(amber(), m, options);
  EXPECT_EQ(none->getNumForces(), 3);
}

TEST(SystemBuilder, OptionsThatDoNotFit) {
  const MatchedTopology reduced = match_structure(amber(), villin().topology, villin().xyz, "N,CA,CB,C,O");
  SystemOptions options;
  options.implicit_obc2 = true;
  EXPECT_THROW(build_system(amber(), reduced, options), InputError);  // reduced: no implicit solvent
  const MatchedTopology full = match_structure(amber(), villin().topology, villin().xyz);
  options.nonbonded = NonbondedModel::Soft;
  EXPECT_THROW(build_system(amber(), full, options), InputError);  // GB needs the full model
  options = {};
  options.nonbonded_cutoff_nm = 0.1;  // not above the 0.1 nm switching width
  EXPECT_THROW(build_system(amber(), full, options), InputError);
  options.nonbonded_cutoff_nm = -1;
  EXPECT_THROW(build_system(amber(), full, options), InputError);
  EXPECT_THROW(parse_nonbonded_model("hard"), InputError);
  EXPECT_EQ(parse_nonbonded_model("soft"), NonbondedModel::Soft);

  options = {};
  options.nonbonded_cutoff_nm = 1.2;
  options.nonbonded = NonbondedModel::Soft;
  auto cut = build_system(amber(), reduced, options);
  const auto* core = find_force<OpenMM::CustomNonbondedForce>(*cut);
  EXPECT_EQ(core->getNonbondedMethod(), OpenMM::CustomNonbondedForce::CutoffNonPeriodic);
  EXPECT_TRUE(core->getUseSwitchingFunction());
  EXPECT_DOUBLE_EQ(core->getSwitchingDistance(), 1.1);
}

TEST(SystemBuilder, XmlFileLoadsBack) {
  test::TempDir dir;
  const MatchedTopology m = match_structure(amber(), villin().topology, villin().xyz, "N,CA,CB,C,O");
  SystemOptions options;
  options.nonbonded = NonbondedModel::Soft;
  auto system = build_system(amber(), m, options);
  const std::string path = dir.file("system.xml");
  write_system_xml(*system, path);
  std::ifstream in(path);
  std::unique_ptr<OpenMM::System> back(OpenMM::XmlSerializer::deserialize<OpenMM::System>(in));
  EXPECT_EQ(back->getNumParticles(), system->getNumParticles());
  EXPECT_EQ(back->getNumForces(), system->getNumForces());
  EXPECT_THROW(write_system_xml(*system, dir.file("no/such/folder/system.xml")), OutputError);
}

TEST(EnergyEvaluation, MatchesOpenMMPythonOnVillin) {
  // Reference values: OpenMM 7.7's Python ForceField('amber14/protein.ff14SB.xml')
  // .createSystem(test.pdb without water and Cl-, nonbondedMethod=NoCutoff),
  // Reference platform, one force group per force class.
  const MatchedTopology m = match_structure(amber(), villin().topology, villin().xyz);
  EnergyEvaluator evaluator(build_system(amber(), m, {}), "Reference");
  const EnergyResult e = evaluator.evaluate(system_xyz(m, villin().xyz));
  ASSERT_EQ(e.groups.size(), 4u);
  const double expected[] = {542.2653182463949, 1261.687059590436, 1896.5242604542962, -3675.063735816289};
  const char* names[] = {"bond", "angle", "torsion", "nonbonded"};
  double sum = 0;
  for (int g = 0; g < 4; ++g) {
    EXPECT_EQ(e.groups[g].name, names[g]);
    EXPECT_NEAR(e.groups[g].energy, expected[g], 1e-4 * std::abs(expected[g])) << names[g];
    sum += e.groups[g].energy;
  }
  EXPECT_DOUBLE_EQ(e.total, sum);
  EXPECT_TRUE(e.finite());
  EXPECT_TRUE(e.forces.empty());
}

TEST(EnergyEvaluation, ForcesAreMinusTheGradient) {
  const MatchedTopology m = match_structure(amber(), villin().topology, villin().xyz, "N,CA,CB,C,O");
  SystemOptions options;
  options.nonbonded = NonbondedModel::Soft;
  EnergyEvaluator evaluator(build_system(amber(), m, options), "Reference");
  std::vector<float> xyz = system_xyz(m, villin().xyz);
  std::vector<double> x(xyz.begin(), xyz.end());
  const EnergyResult e = evaluator.evaluate(std::span<const double>(x), true);
  ASSERT_EQ(e.forces.size(), x.size());
  const double h = 1e-4;  // Å
  for (std::size_t k : {0ul, 7ul, 100ul, 301ul, x.size() - 1}) {
    std::vector<double> plus = x, minus = x;
    plus[k] += h;
    minus[k] -= h;
    const double derivative = (evaluator.evaluate(std::span<const double>(plus)).total -
                               evaluator.evaluate(std::span<const double>(minus)).total) /
                              (2 * h);  // kJ/mol/Å
    EXPECT_NEAR(-derivative * 10, e.forces[k], 1e-3 * std::max(1.0, std::abs(e.forces[k]))) << k;
  }
}

TEST(EnergyEvaluation, OverlappingAtoms) {
  // Documented behaviour: the soft-core energy is finite when atoms overlap,
  // which is why Python molearn trains with it; Coulomb and Lennard-Jones are
  // not. Forces between exactly coincident atoms are NaN (OpenMM divides by
  // r), already 0.001 A apart they are finite. Nothing throws; the result says.
  const MatchedTopology m = match_structure(amber(), villin().topology, villin().xyz, "N,CA,CB,C,O");
  std::vector<float> xyz = system_xyz(m, villin().xyz);
  // CA of residue 5 onto CA of residue 20: not bonded, far apart in the chain.
  int a = -1, b = -1;
  for (std::size_t i = 0; i < m.size(); ++i) {
    const Atom& atom = villin().topology.atom(m.atoms[i].source);
    if (atom.name == "CA" && atom.res_seq == 5) a = static_cast<int>(i);
    if (atom.name == "CA" && atom.res_seq == 20) b = static_cast<int>(i);
  }
  ASSERT_GE(a, 0);
  ASSERT_GE(b, 0);
  for (int k = 0; k < 3; ++k) xyz[3 * a + k] = xyz[3 * b + k];

  std::vector<float> nearly = xyz;
  nearly[3 * a] += 1e-3f;  // 0.001 A apart
  for (const char* platform : {"Reference", "CPU"}) {
    SystemOptions options;
    options.nonbonded = NonbondedModel::Soft;
    EnergyEvaluator soft(build_system(amber(), m, options), platform);
    const EnergyResult e = soft.evaluate(xyz, true);
    EXPECT_TRUE(e.energies_finite()) << platform;
    EXPECT_FALSE(e.forces_finite()) << platform;  // 0/0: the direction of the pair force
    EXPECT_TRUE(soft.evaluate(nearly, true).finite()) << platform;
    options.nonbonded = NonbondedModel::Full;
    EnergyEvaluator full(build_system(amber(), m, options), platform);
    EXPECT_FALSE(full.evaluate(xyz, true).energies_finite()) << platform;
    EXPECT_FALSE(full.evaluate(xyz).finite()) << platform;
  }
}

// "auto" follows the measurements in docs/physics.md: the CPU platform only
// for Coulomb/Lennard-Jones with a cutoff and for generalised Born.
TEST(EnergyEvaluation, AutoPlatformFollowsTheModel) {
  const MatchedTopology reduced = match_structure(amber(), villin().topology, villin().xyz, "N,CA,CB,C,O");
  const MatchedTopology full_atom = match_structure(amber(), villin().topology, villin().xyz);
  auto platform_for = [](const MatchedTopology& m, NonbondedModel model, double cutoff, bool obc2) {
    SystemOptions options;
    options.nonbonded = model;
    options.nonbonded_cutoff_nm = cutoff;
    options.implicit_obc2 = obc2;
    return resolve_platform_name("auto", *build_system(amber(), m, options));
  };
  EXPECT_EQ(platform_for(reduced, NonbondedModel::Soft, 0, false), "Reference");
  EXPECT_EQ(platform_for(reduced, NonbondedModel::None, 0, false), "Reference");
  EXPECT_EQ(platform_for(full_atom, NonbondedModel::Full, 0, false), "Reference");
  EXPECT_EQ(platform_for(reduced, NonbondedModel::Soft, 1.5, false), "Reference");
  EXPECT_EQ(platform_for(full_atom, NonbondedModel::Full, 1.5, false), "CPU");
  EXPECT_EQ(platform_for(full_atom, NonbondedModel::Full, 0, true), "CPU");
  OpenMM::System any;
  EXPECT_EQ(resolve_platform_name("CPU", any), "CPU");
  EXPECT_EQ(EnergyEvaluator(build_system(amber(), reduced, {}), "auto").platform(), "Reference");
  EXPECT_THROW(EnergyEvaluator(build_system(amber(), reduced, {}), "CUDA-that-is-not-here"), InputError);
}

TEST(EnergyEvaluation, BadCoordinatesAreInputErrors) {
  const MatchedTopology m = match_structure(amber(), villin().topology, villin().xyz, "N,CA,CB,C,O");
  EnergyEvaluator evaluator(build_system(amber(), m, {}), "Reference");
  std::vector<float> xyz = system_xyz(m, villin().xyz);
  EXPECT_THROW(evaluator.evaluate(std::span<const float>(xyz.data(), xyz.size() - 3)), InputError);
  xyz[5] = std::nanf("");
  EXPECT_THROW(evaluator.evaluate(xyz), InputError);
  EXPECT_THROW(EnergyEvaluator(build_system(amber(), m, {}), "NoSuchPlatform"), InputError);
}

}  // namespace
}  // namespace molearn
