// Adding hydrogens by OpenMM's hydrogens.xml rules (add_hydrogens.hpp), on
// OpenMM's villin headpiece. The comparison with Modeller.addHydrogens itself
// is the oracle test tests/oracle/test_simulate_openmm.py.
#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <set>

#include "molearn/core/error.hpp"
#include "molearn/data/polymer.hpp"
#include "molearn/io/residue_names.hpp"
#include "molearn/physics/add_hydrogens.hpp"
#include "molearn/physics/hydrogen_definitions.hpp"
#include "physics_test_support.hpp"

namespace molearn {
namespace {

using test::Structure;

// Villin without water and Cl-, optionally without hydrogens.
Structure villin(bool with_hydrogens) {
  const Structure all = test::read_structure(test::villin_path());
  Structure s;
  std::vector<std::size_t> kept;
  for (std::size_t i = 0; i < all.topology.atom_count(); ++i) {
    const Atom& a = all.topology.atom(i);
    if (is_water(a.res_name) || a.res_name == "Cl") continue;
    if (!with_hydrogens && a.element == "H") continue;
    kept.push_back(i);
    for (int k = 0; k < 3; ++k) s.xyz.push_back(all.xyz[3 * i + k]);
  }
  s.topology = all.topology.subset(kept);
  return s;
}

HydrogenatedStructure add(const Structure& s, const AddHydrogensOptions& options = {}) {
  return add_missing_hydrogens(s.topology, s.xyz, find_termini(s.topology, s.xyz), HydrogenDefinitions::standard(),
                               options);
}

double distance(const std::vector<float>& xyz, std::size_t i, std::size_t j) {
  double d2 = 0;
  for (int k = 0; k < 3; ++k) d2 += std::pow(xyz[3 * i + k] - xyz[3 * j + k], 2);
  return std::sqrt(d2);
}

std::set<std::string> residue_names(const Topology& t) {
  std::set<std::string> names;
  for (const Atom& a : t.atoms()) names.insert(a.res_name);
  return names;
}

TEST(HydrogenDefinitions, ReadsOpenMMsRules) {
  const HydrogenDefinitions& defs = HydrogenDefinitions::standard();
  const ResidueHydrogens* asp = defs.find("ASP");
  ASSERT_NE(asp, nullptr);
  EXPECT_EQ(asp->variants, (std::vector<std::string>{"ASP", "ASH"}));
  const auto hd2 = std::find_if(asp->hydrogens.begin(), asp->hydrogens.end(), [](auto& h) { return h.name == "HD2"; });
  ASSERT_NE(hd2, asp->hydrogens.end());
  EXPECT_EQ(hd2->parent, "OD2");
  EXPECT_DOUBLE_EQ(hd2->max_ph, 4.4);
  EXPECT_TRUE(hd2->in_variant("ASH"));
  const auto h2 = std::find_if(asp->hydrogens.begin(), asp->hydrogens.end(), [](auto& h) { return h.name == "H2"; });
  EXPECT_EQ(h2->terminal, "N");
  EXPECT_EQ(defs.find("HIS")->variants.size(), 4u);
  EXPECT_EQ(defs.find("XYZ"), nullptr);
}

TEST(HydrogenDefinitions, RefusesFilesThatAreNotDefinitions) {
  test::TempDir dir;
  const std::string bad = dir.file("bad.xml");
  test::write_text(bad, "<Residues><Residue name=\"ALA\"><H name=\"H\"/></Residue></Residues>");
  EXPECT_THROW(HydrogenDefinitions{bad}, FormatError);
  test::write_text(bad, "<Residues><Residue name=\"ALA\"><H name=\"H\" parent=\"N\" maxph=\"x\"/>");
  EXPECT_THROW(HydrogenDefinitions{bad}, FormatError);
  EXPECT_THROW(HydrogenDefinitions{dir.file("missing.xml")}, InputError);
}

TEST(AddHydrogens, RebuildsEveryHydrogenOfVillin) {
  const Structure with = villin(true), without = villin(false);
  const HydrogenatedStructure h = add(without);
  EXPECT_EQ(h.topology.atom_count(), with.topology.atom_count());
  EXPECT_EQ(h.added.size(), with.topology.atom_count() - without.topology.atom_count());
  // Each new hydrogen sits 1 Å from its parent, the atom written before it
  // or an earlier hydrogen's parent.
  for (std::size_t i : h.added) {
    std::size_t parent = i - 1;
    while (h.topology.atom(parent).element == "H") --parent;
    EXPECT_NEAR(distance(h.xyz_angstrom, i, parent), 1.0, 1e-4) << h.topology.atom(i).name;
  }
  // N-terminal LEU gets H, H2 and H3, as hydrogens.xml names them.
  std::set<std::string> first;
  for (const Atom& a : h.topology.atoms())
    if (a.res_seq == 1 && (a.name == "H" || a.name == "H1" || a.name == "H2" || a.name == "H3")) first.insert(a.name);
  EXPECT_EQ(first, (std::set<std::string>{"H", "H2", "H3"}));
}

TEST(AddHydrogens, KeepsHydrogensThatArePresent) {
  const Structure with = villin(true);
  const HydrogenatedStructure h = add(with);
  EXPECT_TRUE(h.added.empty());
  EXPECT_EQ(h.topology.atom_count(), with.topology.atom_count());
  EXPECT_EQ(h.xyz_angstrom, with.xyz);
  // The histidine of test.pdb is HIE (a hydrogen on NE2): it stays HIE.
  EXPECT_TRUE(residue_names(h.topology).count("HIE"));
}

TEST(AddHydrogens, ProtonatesAcidsAtLowPh) {
  AddHydrogensOptions low;
  low.ph = 3.0;
  const HydrogenatedStructure h = add(villin(false), low);
  const auto names = residue_names(h.topology);
  EXPECT_TRUE(names.count("ASH") && names.count("GLH")) << "aspartates and glutamates protonated at pH 3";
  EXPECT_TRUE(names.count("HIE")) << "test.pdb names its histidine HIE: that variant is kept";
  EXPECT_FALSE(names.count("ASP"));
  const HydrogenatedStructure neutral = add(villin(false));
  EXPECT_TRUE(residue_names(neutral.topology).count("ASP"));
  // ASP 3 and 5 gain HD2, GLU 4 and 31 HE2.
  EXPECT_EQ(h.added.size(), neutral.added.size() + 4);
}

TEST(AddHydrogens, HonoursAVariantNamedInTheFile) {
  Structure s = villin(true);
  for (Atom& a : s.topology.atoms())
    if (a.res_name == "HIE") a.res_name = "HID";  // asks for the other tautomer
  const HydrogenatedStructure h = add(s);
  bool hd1 = false, he2 = false;
  for (const Atom& a : h.topology.atoms())
    if (a.res_name == "HID") hd1 |= a.name == "HD1", he2 |= a.name == "HE2";
  EXPECT_TRUE(hd1);
  EXPECT_FALSE(he2) << "HID has no HE2: it is removed";
  EXPECT_FALSE(h.notes.empty());
}

TEST(AddHydrogens, NamesAHistidineWithoutItsRing) {
  Structure s = villin(false);
  std::vector<std::size_t> kept;
  std::vector<float> xyz;
  for (std::size_t i = 0; i < s.topology.atom_count(); ++i) {
    if (s.topology.atom(i).res_name == "HIE" && s.topology.atom(i).name == "NE2") continue;
    if (s.topology.atom(i).res_name == "HIE") s.topology.atoms()[i].res_name = "HIS";  // let the ring decide
    kept.push_back(i);
    for (int k = 0; k < 3; ++k) xyz.push_back(s.xyz[3 * i + k]);
  }
  Structure cut{s.topology.subset(kept), xyz};
  try {
    add(cut);
    FAIL() << "no error";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("HIS 27"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("NE2"), std::string::npos) << e.what();
  }
}

TEST(AddHydrogens, RefusesMismatchedInputs) {
  const Structure s = villin(false);
  EXPECT_THROW(add_missing_hydrogens(s.topology, std::span<const float>(s.xyz).first(9),
                                     find_termini(s.topology, s.xyz), HydrogenDefinitions::standard()),
               InputError);
  EXPECT_THROW(add_missing_hydrogens(s.topology, s.xyz, {}, HydrogenDefinitions::standard()), InputError);
}

}  // namespace
}  // namespace molearn
