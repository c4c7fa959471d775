#include <gtest/gtest.h>

#include <cmath>
#include <sstream>

#include "molearn/analysis/conformers.hpp"
#include "molearn/analysis/dope.hpp"
#include "molearn/core/error.hpp"
#include "test_support.hpp"

namespace molearn {
namespace {

const std::string kDemoTop = (test::source_dir() / "examples/data/2mi7_heavy_topology.pdb").string();
const std::string kDemoDcd = (test::source_dir() / "examples/data/2mi7_heavy.dcd").string();

TEST(DopeTable, ReadsTheLibraryAndRejectsRowsOfOtherLengths) {
  test::TempDir dir;
  test::write_text(dir.file("bad.lib"), "0.5 2 0.5\nA_X A_X 1 2 3\nA_X B_Y 1 2 3\nB_Y B_Y 1 2\n");
  try {
    DopeTable::load_file(dir.file("bad.lib"));
    FAIL() << "a row with 2 bins among rows of 3 was accepted";
  } catch (const FormatError& e) {
    EXPECT_NE(std::string(e.what()).find("bad.lib:4"), std::string::npos) << e.what();
  }
  test::write_text(dir.file("short.lib"), "0.5 3 0.5\nA_X A_X 1 2 3\nA_X B_Y 1 2 3\nB_Y B_Y 1 2 3\n");
  EXPECT_THROW(DopeTable::load_file(dir.file("short.lib")), FormatError);  // 2 types where 3 are declared
  EXPECT_THROW(DopeTable::load_file(dir.file("absent.lib")), InputError);
}

// Found by fuzzing (tests/fuzz/regressions/dope): a huge negative offset made
// pair_energy() convert a bin index beyond int's range (undefined behaviour).
TEST(DopeTable, RejectsHeadersWhoseBinsCannotBeIndexed) {
  test::TempDir dir;
  const std::string row = "\nA_X A_X 1 2 3\n";
  for (const char* header : {"0.5 1 -4e307", "0.5 1 -0.5", "1e-320 1 0.5", "inf 1 0"}) {
    test::write_text(dir.file("header.lib"), header + row);
    try {
      DopeTable::load_file(dir.file("header.lib"));
      ADD_FAILURE() << "accepted the header '" << header << "'";
    } catch (const FormatError& e) {
      EXPECT_NE(std::string(e.what()).find("header.lib:1"), std::string::npos) << e.what();
    }
  }
  test::write_text(dir.file("no_offset.lib"), "0.5 1" + row);  // IMP's offset is optional
  EXPECT_DOUBLE_EQ(DopeTable::load_file(dir.file("no_offset.lib")).max_distance(), 1.5);
}

// Spline through 0 1 0 at the bin centres 0.75, 1.25, 1.75 Å (bin width
// h = 0.5): natural ends give second derivatives 0, -12, 0 (4 s1 = 6 (0 - 2 + 0)
// / h^2). Half way between the first two centres (r = 1.0):
// 0.5 * 0 + 0.5 * 1 + (0.5 (0.25 - 1) 0 + 0.5 (0.25 - 1) (-12)) h^2 / 6 = 0.6875.
TEST(DopeTable, InterpolatesWithIMPsNaturalSplineBetweenBinCentres) {
  test::TempDir dir;
  test::write_text(dir.file("spike.lib"), "0.5 1 0.5\nAAA_X AAA_X 0 1 0\n");
  const DopeTable t = DopeTable::load_file(dir.file("spike.lib"));
  const int x = t.type_of("AAA", "X");
  ASSERT_EQ(x, 0);
  EXPECT_NEAR(t.pair_energy(x, x, 1.0), 0.6875, 1e-12);
  EXPECT_NEAR(t.pair_energy(x, x, 1.25), 1.0, 1e-12);  // a bin centre gives the bin value
  EXPECT_NEAR(t.pair_energy(x, x, 0.75), 0.0, 1e-12);
  // 1.4 Å: t = 0.3 past the second centre: 0.7 + 0.7 (0.49 - 1)(-12) h^2 / 6 = 0.8785.
  EXPECT_NEAR(t.pair_energy(x, x, 1.4), 0.8785, 1e-12);
  EXPECT_EQ(t.max_distance(), 1.5);
  EXPECT_EQ(t.pair_energy(x, x, 1.5), 0.0);  // the table ends at bin width x bins
  EXPECT_EQ(t.pair_energy(x, x, 0.5), 0.0);  // at or below the first bin's start
  EXPECT_TRUE(std::isnan(t.pair_energy(x, x, NAN)));
  EXPECT_EQ(t.pair_energy(-1, x, 1.0), 0.0);
}

TEST(DopeTable, LinearBinsGiveALinearPotential) {
  test::TempDir dir;
  std::ostringstream ramp;
  for (int k = 0; k < 30; ++k) ramp << " " << k;
  test::write_text(dir.file("ramp.lib"), "0.5 1 0.5\nAAA_X AAA_X" + ramp.str() + "\n");
  const DopeTable t = DopeTable::load_file(dir.file("ramp.lib"));
  for (double r : {0.8, 3.1, 7.77, 14.9}) EXPECT_NEAR(t.pair_energy(0, 0, r), (r - 0.75) / 0.5, 1e-9) << r;
}

Conformers conformers(const std::vector<Atom>& atoms, const std::vector<float>& xyz) {
  Conformers c;
  c.topology = Topology(atoms);
  c.termini.assign(c.topology.residue_count(), ResidueTermini{});
  c.frame_count = xyz.size() / (3 * atoms.size());
  c.xyz = xyz;
  return c;
}

Atom atom(const std::string& res, int seq, const std::string& name, const std::string& element = "") {
  return Atom{name, res, seq, ' ', "A", element, false, 0};
}

TEST(DopeMetrics, TwoAtomsCutoffAndSameResidueExclusion) {
  test::TempDir dir;
  test::write_text(dir.file("spike.lib"), "0.5 2 0.5\nAAA_X AAA_X 0 1 0\nAAA_X AAA_Z 0 1 0\nAAA_Z AAA_Z 0 0 0\n");
  const DopeTable t = DopeTable::load_file(dir.file("spike.lib"));
  // Different residues, 1.0 Å apart (two frames: the second 1.25 Å).
  const Conformers apart =
      conformers({atom("AAA", 1, "X"), atom("AAA", 2, "Z")}, {0, 0, 0, 0.6f, 0.8f, 0, 0, 0, 0, 0, 0, 1.25f});
  const MetricTable m = dope_metrics(apart, t, DopeOptions{}, 1);
  ASSERT_EQ(m.columns, std::vector<std::string>{"dope"});
  EXPECT_NEAR(m.rows[0][0], 0.6875, 1e-6);
  EXPECT_NEAR(m.rows[1][0], 1.0, 1e-6);
  EXPECT_EQ(dope_metrics(apart, t, DopeOptions{1.0, false}, 1).rows[0][0], 0.0);  // r >= cutoff: left out
  EXPECT_NEAR(dope_metrics(apart, t, DopeOptions{1.01, false}, 1).rows[0][0], 0.6875, 1e-6);
  EXPECT_THROW(dope_metrics(apart, t, DopeOptions{0, false}, 1), InputError);
  EXPECT_THROW(dope_metrics(apart, t, DopeOptions{NAN, false}, 1), InputError);
  // One residue: nothing by default (MODELLER's assess_dope), the pair with all_pairs.
  const Conformers same = conformers({atom("AAA", 1, "X"), atom("AAA", 1, "Z")}, {0, 0, 0, 0.6f, 0.8f, 0});
  EXPECT_EQ(dope_metrics(same, t, DopeOptions{}, 1).rows[0][0], 0.0);
  EXPECT_NEAR(dope_metrics(same, t, DopeOptions{15, true}, 1).rows[0][0], 0.6875, 1e-6);
}

TEST(DopeMetrics, NanCoordinatesGiveNan) {
  test::TempDir dir;
  test::write_text(dir.file("spike.lib"), "0.5 1 0.5\nAAA_X AAA_X 0 1 0\n");
  const DopeTable t = DopeTable::load_file(dir.file("spike.lib"));
  const Conformers c = conformers({atom("AAA", 1, "X"), atom("AAA", 2, "X"), atom("AAA", 3, "H", "H")},
                                  {0, 0, 0, 1, 0, 0, NAN, 0, 0,  // NaN on an untyped hydrogen: not used
                                   0, 0, 0, NAN, 0, 0, 5, 0, 0});
  const MetricTable m = dope_metrics(c, t, DopeOptions{}, 2);
  EXPECT_NEAR(m.rows[0][0], 0.6875, 1e-6);
  EXPECT_TRUE(std::isnan(m.rows[1][0]));
}

class RealDope : public ::testing::Test {
 protected:
  void SetUp() override {
    MOLEARN_REQUIRE_FILE(test::shared_data_dir() / "dope/dope_score.lib");
    table_ = DopeTable::load(test::shared_data_dir().string());
  }
  DopeTable table_;
};

TEST_F(RealDope, TypesAndAliasesAsIMP) {
  const DopeTable& t = table_;
  EXPECT_EQ(t.type_count(), 158u);
  EXPECT_EQ(t.bin_width(), 0.5);
  EXPECT_EQ(t.max_distance(), 15.0);
  const int his_cb = t.type_of("HIS", "CB");
  ASSERT_GE(his_cb, 0);
  for (const char* his : {"HIE", "HID", "HIP", "HSD", "HSE", "HSP"}) EXPECT_EQ(t.type_of(his, "CB"), his_cb) << his;
  EXPECT_EQ(t.type_of("CYX", "SG"), t.type_of("CYS", "SG"));
  EXPECT_EQ(t.type_of("ARG", "NH2"), t.type_of("ARG", "NH1"));
  EXPECT_EQ(t.type_of("VAL", "CG2"), t.type_of("VAL", "CG1"));
  EXPECT_NE(t.type_of("VAL", "CG1"), t.type_of("VAL", "CB"));
  EXPECT_EQ(t.type_of("ILE", "CD"), t.type_of("ILE", "CD1"));   // CHARMM's name
  EXPECT_NE(t.type_of("ILE", "CG2"), t.type_of("ILE", "CG1"));  // not equivalent: two types
  EXPECT_EQ(t.type_of("TYR", "CE2"), t.type_of("TYR", "CE1"));
  EXPECT_EQ(t.type_of("ALA", "OXT"), -1);
  EXPECT_EQ(t.type_of("ALA", "H"), -1);
  EXPECT_EQ(t.type_of("HOH", "O"), -1);
  EXPECT_EQ(t.type_name(t.type_of("GLY", "CA")), "GLY_CA");

  const Topology top({atom("ALA", 1, "N"), atom("ALA", 1, "H", "H"), atom("ALA", 1, "CA"), atom("ALA", 1, "OXT"),
                      atom("HOH", 2, "O")});
  const DopeAtomTypes types = dope_atom_types(top, t);
  EXPECT_EQ(types.types[0], t.type_of("ALA", "N"));
  EXPECT_EQ(types.types[1], -1);
  EXPECT_EQ(types.untyped_heavy_atoms, 2u);  // OXT and the water oxygen; the hydrogen is not counted
}

TEST_F(RealDope, BinCentresGiveTheLibraryValues) {
  // First line of dope_score.lib: ALA_N ALA_N 10 10 10 10 -1.93 1.09 ...; bin k is centred on 0.75 + 0.5 k.
  const int n = table_.type_of("ALA", "N");
  EXPECT_NEAR(table_.pair_energy(n, n, 2.75), -1.93, 1e-12);
  EXPECT_NEAR(table_.pair_energy(n, n, 3.25), 1.09, 1e-12);
  const int a = table_.type_of("TRP", "NE1"), b = table_.type_of("LYS", "NZ");
  for (double r : {0.6, 3.3, 9.87, 14.99}) EXPECT_EQ(table_.pair_energy(a, b, r), table_.pair_energy(b, a, r));
}

// The neighbour grid finds exactly the pairs an all-pairs loop finds.
double brute_force(const Conformers& c, std::size_t frame, const DopeTable& t, const DopeOptions& o) {
  const auto types = dope_atom_types(c.topology, t).types;
  const auto xyz = c.frame(frame);
  double sum = 0;
  for (std::size_t i = 0; i < c.atom_count(); ++i)
    for (std::size_t j = i + 1; j < c.atom_count(); ++j) {
      if (types[i] < 0 || types[j] < 0) continue;
      if (!o.all_pairs && same_residue(c.topology.atom(i), c.topology.atom(j))) continue;
      double r2 = 0;
      for (int k = 0; k < 3; ++k) r2 += std::pow(double(xyz[3 * i + k]) - xyz[3 * j + k], 2);
      if (std::sqrt(r2) < o.cutoff) sum += t.pair_energy(types[i], types[j], std::sqrt(r2));
    }
  return sum;
}

TEST_F(RealDope, NeighbourGridEqualsAllPairsOnTheDemo) {
  Conformers c = read_conformers(kDemoDcd, kDemoTop);
  c.frame_count = 3;
  c.xyz.resize(3 * c.atom_count() * 3);
  for (const DopeOptions& o : {DopeOptions{}, DopeOptions{6.0, false}, DopeOptions{15, true}}) {
    const MetricTable m = dope_metrics(c, table_, o, 2);
    for (std::size_t f = 0; f < 3; ++f) {
      const double expected = brute_force(c, f, table_, o);
      EXPECT_NEAR(m.rows[f][0], expected, 1e-9 * std::abs(expected)) << f << " cutoff " << o.cutoff;
      // A folded protein has a negative DOPE; same-residue pairs (bonded, at
      // distances the statistics never saw) add large positive terms.
      if (!o.all_pairs) {
        EXPECT_LT(m.rows[f][0], 0.0);
      }
    }
  }
  // Exploded structure: no pair within the cutoff, and few cells despite the size.
  for (float scale : {1e6f, 1e30f}) {
    for (float& v : c.xyz) v *= scale;
    for (double v : dope_metrics(c, table_, DopeOptions{}, 1).column("dope")) EXPECT_EQ(v, 0.0) << scale;
  }
}

TEST_F(RealDope, OneResidueScoresOnlyWithAllPairs) {
  Conformers c = read_conformers(kDemoDcd, kDemoTop);
  std::vector<std::size_t> first;
  for (std::size_t i = 0; i < c.atom_count() && c.topology.atom(i).res_seq == c.topology.atom(0).res_seq; ++i)
    first.push_back(i);
  Conformers one =
      conformers(c.topology.subset(first).atoms(), std::vector<float>(c.xyz.begin(), c.xyz.begin() + 3 * first.size()));
  EXPECT_EQ(dope_metrics(one, table_, DopeOptions{}, 1).rows[0][0], 0.0);
  const double all = dope_metrics(one, table_, DopeOptions{15, true}, 1).rows[0][0];
  EXPECT_NE(all, 0.0);
  EXPECT_NEAR(all, brute_force(one, 0, table_, DopeOptions{15, true}), 1e-9 * std::abs(all));
}

}  // namespace
}  // namespace molearn
