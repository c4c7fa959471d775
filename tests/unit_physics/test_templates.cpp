// Matching residues to templates: terminal variants from geometry, aliases,
// reduced templates, and the messages of residues that match nothing.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <set>
#include <tuple>

#include "molearn/core/error.hpp"
#include "molearn/physics/bonded_terms.hpp"
#include "molearn/physics/pdb_names.hpp"
#include "molearn/physics/structure_matching.hpp"
#include "molearn/physics/template_matching.hpp"
#include "physics_test_support.hpp"

namespace molearn {
namespace {

using test::kBackbone5;

const ForceField& amber() {
  static const ForceField ff = read_forcefield(kDefaultForceField);
  return ff;
}

TemplateOptions backbone_options() {
  TemplateOptions options;
  options.filter = TemplateAtomFilter::from_selection("N,CA,CB,C,O");
  return options;
}

std::string match_error(const test::ToyStructure& s, const TemplateOptions& options) {
  try {
    match_templates(amber(), s.topology(), s.xyz, options);
  } catch (const InputError& e) {
    return e.what();
  }
  return "(no InputError)";
}

bool has_bond(const MatchedTopology& m, std::size_t a, std::size_t b) {
  for (const auto& [i, j] : m.bonds)
    if ((m.atoms[i].source == a && m.atoms[j].source == b) || (m.atoms[i].source == b && m.atoms[j].source == a))
      return true;
  return false;
}

TEST(TemplatesMatching, TerminalVariantsFollowChainBreaks) {
  // One chain, no TER record, but a 10 A gap between residues 2 and 3: two
  // chain segments, so two N-termini and two C-termini.
  test::ToyStructure s;
  s.add("ALA", 1, kBackbone5);
  s.add("GLY", 2, {"N", "CA", "C", "O"});
  s.add("SER", 3, kBackbone5, 10.0f);
  s.add("ALA", 4, kBackbone5);
  s.add("ALA", 5, kBackbone5);
  const MatchedTopology m = match_templates(amber(), s.topology(), s.xyz, backbone_options());
  EXPECT_EQ(m.residue_templates, (std::vector<std::string>{"NALA", "CGLY", "NSER", "ALA", "CALA"}));
  EXPECT_TRUE(m.reduced);
  EXPECT_TRUE(has_bond(m, 3, 5));    // ALA1 C - GLY2 N
  EXPECT_FALSE(has_bond(m, 7, 9));   // GLY2 C - SER3 N: the break
  EXPECT_TRUE(has_bond(m, 12, 14));  // SER3 C - ALA4 N
  // Charges come from the terminal templates: NALA's N is N3 (charged amine).
  EXPECT_NEAR(*m.atoms[0].template_charge, 0.1414, 1e-12);
  EXPECT_NEAR(*m.atoms[5].template_charge, -0.3821, 1e-12);  // CGLY N
}

TEST(TemplatesMatching, CapsMakeInteriorResidues) {
  test::ToyStructure s;
  s.add("ACE", 0, {"CH3", "C", "O"});
  s.add("ALA", 1, kBackbone5);
  s.add("NME", 2, {"N", "CH3"});
  TemplateOptions options;
  options.filter = TemplateAtomFilter::from_selection("heavy");
  const MatchedTopology m = match_templates(amber(), s.topology(), s.xyz, options);
  EXPECT_EQ(m.residue_templates, (std::vector<std::string>{"ACE", "ALA", "NME"}));
  EXPECT_TRUE(has_bond(m, 1, 3));  // ACE C - ALA N
  EXPECT_TRUE(has_bond(m, 6, 8));  // ALA C - NME N
}

TEST(TemplatesMatching, ResidueAliases) {
  test::ToyStructure s;
  const std::vector<std::string> his = {"N", "CA", "CB", "C", "O"};
  s.add("ALA", 1, kBackbone5);
  s.add("HIS", 2, his);
  s.add("HSD", 3, his);
  s.add("HSP", 4, his);
  s.add("CYS", 5, kBackbone5);
  s.add("ASPP", 6, kBackbone5);
  s.add("ALA", 7, kBackbone5);
  const MatchedTopology m = match_templates(amber(), s.topology(), s.xyz, backbone_options());
  EXPECT_EQ(m.residue_templates, (std::vector<std::string>{"NALA", "HIE", "HID", "HIP", "CYS", "ASH", "CALA"}));
  // OpenMM's standard names: HIE is a histidine.
  EXPECT_EQ(PdbNames::standard().residue("HIE"), "HIS");
  EXPECT_EQ(PdbNames::standard().atom("ALA", "HN"), "H");
  EXPECT_EQ(PdbNames::standard().atom("LEU", "HB1"), "HB3");
}

TEST(TemplatesMatching, DisulfideMakesCyx) {
  test::ToyStructure s;
  s.add("CYS", 1, {"N", "CA", "CB", "SG", "C", "O"});
  s.add("CYS", 2, {"N", "CA", "CB", "SG", "C", "O"}, 20.0f);
  s.xyz[3 * 9] = s.xyz[3 * 3] + 2.04f;  // SG 2 next to SG 1
  s.xyz[3 * 9 + 1] = s.xyz[3 * 3 + 1];
  s.xyz[3 * 9 + 2] = s.xyz[3 * 3 + 2];
  TemplateOptions options;
  options.filter = TemplateAtomFilter::from_selection("heavy");
  options.termini = {{false, false}, {false, false}};  // as if inside longer chains
  const MatchedTopology m = match_templates(amber(), s.topology(), s.xyz, options);
  EXPECT_EQ(m.residue_templates, (std::vector<std::string>{"CYX", "CYX"}));
  EXPECT_TRUE(has_bond(m, 3, 9));
}

TEST(TemplatesMatching, FullAtomVillinWithOtherNames) {
  // test.pdb names atoms as GROMACS does (LEU HB1/HB2, N-terminal H1-H3) and
  // has water and Cl- that the protein force field has no templates for.
  const test::Structure villin = test::read_structure(test::villin_path());
  const MatchedTopology m = match_structure(amber(), villin.topology, villin.xyz);
  EXPECT_EQ(m.size(), 582u);
  EXPECT_FALSE(m.reduced);
  EXPECT_EQ(m.skipped, (std::vector<std::string>{"Cl x 2", "HOH x 2761"}));
  EXPECT_EQ(m.residue_templates.front(), "NLEU");
  EXPECT_EQ(m.residue_templates[34], "CPHE");
  EXPECT_EQ(m.residue_templates[26], "HIE");

  // A histidine named HIS or HID but protonated as HIE is matched to HIE.
  for (const char* name : {"HIS", "HID"}) {
    Topology renamed = villin.topology;
    for (Atom& a : renamed.atoms())
      if (a.res_seq == 27) a.res_name = name;
    EXPECT_EQ(match_structure(amber(), renamed, villin.xyz).residue_templates[26], "HIE") << name;
  }
}

TEST(TemplatesMatching, UnmatchedResiduesNameWhatIsWrong) {
  test::ToyStructure s;
  s.add("ALA", 1, kBackbone5);
  s.add("ALA", 2, {"N", "CA", "C", "O"});  // no CB
  s.add("ALA", 3, kBackbone5);
  std::string message = match_error(s, backbone_options());
  EXPECT_NE(message.find("residue ALA 2 (chain A)"), std::string::npos) << message;
  EXPECT_NE(message.find("template ALA"), std::string::npos) << message;
  EXPECT_NE(message.find("missing atoms: CB"), std::string::npos) << message;

  test::ToyStructure extra;
  extra.add("ALA", 1, kBackbone5);
  extra.add("ALA", 2, {"N", "CA", "CB", "C", "O", "XX"});
  extra.add("ALA", 3, kBackbone5);
  TemplateOptions heavy;
  heavy.filter = TemplateAtomFilter::from_selection("heavy");
  message = match_error(extra, heavy);
  EXPECT_NE(message.find("unexpected atoms: XX"), std::string::npos) << message;

  // A full-atom residue lacking its hydrogens names them.
  test::ToyStructure bare;
  bare.add("ALA", 7, kBackbone5, 0, "B");
  message = match_error(bare, TemplateOptions{});
  EXPECT_NE(message.find("is a chain of its own"), std::string::npos) << message;
  bare.add("ALA", 8, kBackbone5, 0, "B");
  message = match_error(bare, TemplateOptions{});
  EXPECT_NE(message.find("residue ALA 7 (chain B) does not match template NALA"), std::string::npos) << message;
  EXPECT_NE(message.find("missing atoms: H1, H2, H3, HA, HB1, HB2, HB3"), std::string::npos) << message;

  // A residue name the force field does not know.
  test::ToyStructure ligand;
  ligand.add("LIG", 1, {"C1", "C2"});
  message = match_error(ligand, TemplateOptions{});
  EXPECT_NE(message.find("no template named LIG"), std::string::npos) << message;
  TemplateOptions skip;
  skip.skip_residues_without_template = true;
  const MatchedTopology none = match_templates(amber(), ligand.topology(), ligand.xyz, skip);
  EXPECT_EQ(none.size(), 0u);
  EXPECT_EQ(none.skipped, std::vector<std::string>{"LIG x 1"});
}

TEST(TemplatesMatching, SelectionWithoutBondedAtoms) {
  const test::Structure villin = test::read_structure(test::villin_path());
  // CA only: no two selected atoms are bonded; refused with a clear message.
  try {
    match_structure(amber(), villin.topology, villin.xyz, "CA");
    ADD_FAILURE() << "CA-only selection accepted";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("no two bonded atoms"), std::string::npos) << e.what();
  }
  // Side chains without backbone: documented behaviour, each residue is a
  // fragment of its own (CB-CG bonds, no bonds between residues).
  const MatchedTopology side = match_structure(amber(), villin.topology, villin.xyz, "CB,CG");
  for (const auto& [a, b] : side.bonds) EXPECT_EQ(side.atoms[a].residue, side.atoms[b].residue);
  EXPECT_GT(side.bonds.size(), 20u);
}

// The terms of a reduced system are exactly the terms of the full-atom
// system whose atoms are all kept (with the same parameters).
using TermKey = std::tuple<char, std::vector<std::size_t>, long, long, long>;

std::set<TermKey> term_set(const BondedTerms& terms, const MatchedTopology& m, const std::set<std::size_t>* kept) {
  auto source = [&](std::initializer_list<int> atoms, bool& all_kept) {
    std::vector<std::size_t> s;
    for (int a : atoms) {
      s.push_back(m.atoms[a].source);
      all_kept = all_kept && (!kept || kept->count(m.atoms[a].source));
    }
    return s;
  };
  auto q = [](double x) { return std::lround(x * 1e6); };
  std::set<TermKey> set;
  for (const BondTerm& b : terms.bonds) {
    bool all = true;
    auto s = source({b.atoms[0], b.atoms[1]}, all);
    std::sort(s.begin(), s.end());
    if (all) set.insert({'b', s, q(b.length), q(b.k), 0});
  }
  for (const AngleTerm& a : terms.angles) {
    bool all = true;
    auto s = source({a.atoms[0], a.atoms[1], a.atoms[2]}, all);
    if (s[0] > s[2]) std::swap(s[0], s[2]);
    if (all) set.insert({'a', s, q(a.angle), q(a.k), 0});
  }
  for (const TorsionTerm& t : terms.torsions) {
    bool all = true;
    auto s = source({t.atoms[0], t.atoms[1], t.atoms[2], t.atoms[3]}, all);
    if (all) set.insert({t.improper ? 'i' : 'p', s, t.term.periodicity, q(t.term.phase), q(t.term.k)});
  }
  return set;
}

TEST(TemplatesReduced, TermsAreTheSubsetOfTheFullSystem) {
  const test::Structure villin = test::read_structure(test::villin_path());
  const MatchedTopology full = match_structure(amber(), villin.topology, villin.xyz);
  const BondedTerms full_terms = assign_bonded_terms(amber(), full);
  for (const char* selection : {"N,CA,CB,C,O", "heavy", "backbone"}) {
    const MatchedTopology reduced = match_structure(amber(), villin.topology, villin.xyz, selection);
    EXPECT_TRUE(reduced.reduced);
    const std::vector<std::size_t> sources = reduced.source_atoms();
    const std::set<std::size_t> kept(sources.begin(), sources.end());
    const std::set<TermKey> expected = term_set(full_terms, full, &kept);
    const std::set<TermKey> actual = term_set(assign_bonded_terms(amber(), reduced), reduced, nullptr);
    EXPECT_GT(actual.size(), 100u) << selection;
    EXPECT_EQ(actual, expected) << selection;
    // Same templates, hence same charges, for the kept atoms.
    std::vector<std::string> full_protein;
    for (const auto& t : full.residue_templates)
      if (!t.empty()) full_protein.push_back(t);
    EXPECT_EQ(reduced.residue_templates, full_protein) << selection;
  }
}

}  // namespace
}  // namespace molearn
