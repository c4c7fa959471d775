// OpenMM's rules for choosing bonded parameters, on a toy tripeptide
// NALA-ALA-CALA of the hand-written force field.
#include <gtest/gtest.h>

#include <algorithm>

#include "molearn/physics/bond_graph.hpp"
#include "molearn/physics/bonded_terms.hpp"
#include "molearn/physics/template_matching.hpp"
#include "physics_test_support.hpp"

namespace molearn {
namespace {

struct Tripeptide {
  test::ToyStructure structure;
  Tripeptide() {
    structure.add("ALA", 1, {"N", "H1", "H2", "H3", "CA", "CB", "C", "O"});
    structure.add("ALA", 2, {"N", "H", "CA", "CB", "C", "O"});
    // OXT before O in the file, the other way round in the template: the
    // amber improper rule orders by template, not by file.
    structure.add("ALA", 3, {"N", "H", "CA", "CB", "C", "OXT", "O"});
  }
  // Index of atom `name` of residue `res_seq` in the system (= file order).
  int atom(int res_seq, const std::string& name) const {
    for (std::size_t i = 0; i < structure.atoms.size(); ++i)
      if (structure.atoms[i].res_seq == res_seq && structure.atoms[i].name == name) return static_cast<int>(i);
    ADD_FAILURE() << "no atom " << name << " in residue " << res_seq;
    return -1;
  }
};

std::vector<TorsionTerm> torsions_of(const BondedTerms& terms, std::array<int, 4> atoms, bool improper) {
  std::vector<TorsionTerm> found;
  for (const TorsionTerm& t : terms.torsions) {
    std::array<int, 4> reversed = {t.atoms[3], t.atoms[2], t.atoms[1], t.atoms[0]};
    if (t.improper == improper && (t.atoms == atoms || (!improper && reversed == atoms))) found.push_back(t);
  }
  return found;
}

TEST(ForceFieldRules, BondGraphEnumeratesLikeOpenMM) {
  // A 4-ring with a tail: 0-1-2-3-0, 3-4.
  const BondGraph graph(5, {{0, 1}, {1, 2}, {2, 3}, {3, 0}, {3, 4}});
  const auto angles = graph.angles();
  EXPECT_EQ(angles.size(), 6u);
  for (const auto& a : angles) EXPECT_LT(a[0], a[2]);
  EXPECT_TRUE(std::is_sorted(angles.begin(), angles.end()));
  const auto propers = graph.propers();
  for (const auto& p : propers) EXPECT_LT(p[0], p[3]);
  EXPECT_TRUE(std::is_sorted(propers.begin(), propers.end()));
  // Ring paths 0-1-2-3, 1-2-3-0, 2-3-0-1, 3-0-1-2, and 4-3-0-1, 4-3-2-1.
  EXPECT_EQ(propers.size(), 6u);
  EXPECT_EQ(graph.improper_candidates(), (std::vector<std::array<int, 4>>{{3, 0, 2, 4}}));
  EXPECT_EQ(graph.pairs_within_two_bonds().size(), 9u);  // 5 bonds + 4 distinct 1-3 pairs
}

TEST(ForceFieldRules, SpecificProperWinsOverWildcard) {
  test::TempDir dir;
  const ForceField ff = test::toy_forcefield(dir);
  const Tripeptide p;
  const MatchedTopology m = match_templates(ff, p.structure.topology(), p.structure.xyz);
  ASSERT_EQ(m.residue_templates, (std::vector<std::string>{"NALA", "ALA", "CALA"}));
  const BondedTerms terms = assign_bonded_terms(ff, m);

  // N-CA-C-O matches the wildcard X-CT-C-X (first in the file) and the
  // specific N-CT-C-O (later): the specific one wins, with both its terms.
  const auto specific = torsions_of(terms, {p.atom(2, "N"), p.atom(2, "CA"), p.atom(2, "C"), p.atom(2, "O")}, false);
  ASSERT_EQ(specific.size(), 2u);
  EXPECT_EQ(specific[0].term.periodicity, 3);
  EXPECT_DOUBLE_EQ(specific[0].term.k, 2.0);
  EXPECT_DOUBLE_EQ(specific[1].term.k, 0.5);
  // CB-CA-C-O only matches wildcards: the first one (k 1), never the later (k 3).
  const auto wildcard = torsions_of(terms, {p.atom(2, "CB"), p.atom(2, "CA"), p.atom(2, "C"), p.atom(2, "O")}, false);
  ASSERT_EQ(wildcard.size(), 1u);
  EXPECT_DOUBLE_EQ(wildcard[0].term.k, 1.0);
  for (const TorsionTerm& t : terms.torsions) EXPECT_NE(t.term.k, 3.0);
  // X-N-CT-X has k = 0: OpenMM leaves such terms out.
  EXPECT_TRUE(torsions_of(terms, {p.atom(2, "H"), p.atom(2, "N"), p.atom(2, "CA"), p.atom(2, "CB")}, false).empty());
  // Across the peptide bond: X-C-N-X.
  EXPECT_EQ(torsions_of(terms, {p.atom(1, "O"), p.atom(1, "C"), p.atom(2, "N"), p.atom(2, "H")}, false).size(), 1u);

  // Angles: the first matching definition, here the type-specific N-CA-C.
  for (const AngleTerm& a : terms.angles) {
    if (a.atoms[1] == p.atom(2, "CA") && std::min(a.atoms[0], a.atoms[2]) == p.atom(2, "N") &&
        std::max(a.atoms[0], a.atoms[2]) == p.atom(2, "C")) {
      EXPECT_DOUBLE_EQ(a.k, 527.184);
    }
    if (a.atoms[1] == p.atom(2, "CA") && a.atoms[0] == p.atom(2, "N") && a.atoms[2] == p.atom(2, "CB")) {
      EXPECT_DOUBLE_EQ(a.k, 418.4);
    }
  }
  // Bonds: every bond of the graph has parameters; the peptide bonds too.
  EXPECT_EQ(terms.bonds.size(), m.bonds.size());
  EXPECT_EQ(terms.angles.size(), BondGraph(m.size(), m.bonds).angles().size());
}

TEST(ForceFieldRules, ImproperAtomOrderFollowsTheFilesOrdering) {
  test::TempDir dir;
  const Tripeptide p;
  const int ca = p.atom(3, "CA"), c = p.atom(3, "C"), o = p.atom(3, "O"), oxt = p.atom(3, "OXT");
  {
    // amber: equivalent outer atoms (same element, wildcard definition) in
    // template order: O (template index 5) before OXT (6), whatever the file says.
    const ForceField ff = test::toy_forcefield(dir, "amber");
    const BondedTerms terms = assign_bonded_terms(ff, match_templates(ff, p.structure.topology(), p.structure.xyz));
    EXPECT_EQ(torsions_of(terms, {ca, o, c, oxt}, true).size(), 1u);
    EXPECT_TRUE(torsions_of(terms, {ca, oxt, c, o}, true).empty());
    // N-H improper at the peptide bond: previous residue's C, then CA, the
    // centre N, the hydrogen (tleap's order).
    EXPECT_EQ(torsions_of(terms, {p.atom(1, "C"), p.atom(2, "CA"), p.atom(2, "N"), p.atom(2, "H")}, true).size(), 1u);
  }
  {
    // default: carbon first among the two wildcard atoms, the rest by
    // position in the candidate; so the file order decides O vs OXT.
    const ForceField ff = test::toy_forcefield(dir, "");
    const BondedTerms terms = assign_bonded_terms(ff, match_templates(ff, p.structure.topology(), p.structure.xyz));
    EXPECT_EQ(torsions_of(terms, {ca, oxt, c, o}, true).size(), 1u);
  }
  {
    // smirnoff: all three cyclic orders around the centre.
    const ForceField ff = test::toy_forcefield(dir, "smirnoff");
    const BondedTerms terms = assign_bonded_terms(ff, match_templates(ff, p.structure.topology(), p.structure.xyz));
    int around_c = 0;
    for (const TorsionTerm& t : terms.torsions) around_c += t.improper && t.atoms[0] == c;
    EXPECT_EQ(around_c, 3);
  }
}

}  // namespace
}  // namespace molearn
