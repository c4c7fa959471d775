#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <map>
#include <sstream>
#include <utility>

#include "molearn/analysis/backbone.hpp"
#include "molearn/analysis/conformers.hpp"
#include "molearn/analysis/ramachandran.hpp"
#include "molearn/core/error.hpp"
#include "test_support.hpp"

namespace molearn {
namespace {

const std::string kDemoTop = (test::source_dir() / "examples/data/2mi7_heavy_topology.pdb").string();
const std::string kDemoDcd = (test::source_dir() / "examples/data/2mi7_heavy.dcd").string();
constexpr RamaClass kAllClasses[] = {RamaClass::General,    RamaClass::Glycine,    RamaClass::TransProline,
                                     RamaClass::CisProline, RamaClass::PreProline, RamaClass::IleVal};

using Grid = std::map<std::pair<int, int>, double>;  // (phi centre, psi centre) -> value; others 0

std::string grid_text(const Grid& grid) {
  std::ostringstream out;
  out << "# Table name/description: \"test\"\n# Number of dimensions: 2\n"
         "#   x1: -180.0 180.0 180 true\n#   x2: -180.0 180.0 180 true\n";
  for (const auto& [at, value] : grid) out << at.first << ".0 " << at.second << ".0 " << value << "\n";
  return out.str();
}

// Six grids, `grid` for `cls` and a single 1.0 elsewhere (a grid file
// without any value is rejected as truncated).
void write_tables(const test::TempDir& dir, RamaClass cls, const Grid& grid) {
  for (RamaClass c : kAllClasses)
    test::write_text(dir.file(RamachandranTables::file_name(c)), grid_text(c == cls ? grid : Grid{{{1, 1}, 1.0}}));
}

TEST(RamachandranTables, BinCentresGiveTheGridValueAndBetweenThemBilinear) {
  test::TempDir dir;
  write_tables(dir, RamaClass::General, {{{-61, -41}, 0.4}, {{-59, -41}, 0.8}, {{-61, -39}, 0.0}, {{-59, -39}, 0.2}});
  const auto t = RamachandranTables::load_folder(dir.path().string());
  EXPECT_DOUBLE_EQ(t.evaluate(RamaClass::General, -61, -41), 0.4);
  EXPECT_DOUBLE_EQ(t.evaluate(RamaClass::General, -59, -41), 0.8);
  // phi a quarter of the way, psi half way: rows 0.4->0.8 gives 0.5, 0.0->0.2 gives 0.05; then (0.5+0.05)/2.
  EXPECT_DOUBLE_EQ(t.evaluate(RamaClass::General, -60.5, -40), 0.275);
  EXPECT_DOUBLE_EQ(t.evaluate(RamaClass::Glycine, -60.5, -40), 0.0);  // the other classes' grids are separate
  EXPECT_DOUBLE_EQ(t.evaluate(RamaClass::Glycine, 1, 1), 1.0);
  EXPECT_TRUE(std::isnan(t.evaluate(RamaClass::General, NAN, -40)));
  EXPECT_TRUE(std::isnan(t.evaluate(RamaClass::General, -60, INFINITY)));
}

TEST(RamachandranTables, WrapsAcross180) {
  test::TempDir dir;
  write_tables(dir, RamaClass::IleVal, {{{179, -179}, 1.0}});
  const auto t = RamachandranTables::load_folder(dir.path().string());
  // 180 lies half way between the centres 179 and -179 (+360) on both axes.
  EXPECT_DOUBLE_EQ(t.evaluate(RamaClass::IleVal, 180, -180), 0.25);
  EXPECT_DOUBLE_EQ(t.evaluate(RamaClass::IleVal, -180, 180), 0.25);
  EXPECT_DOUBLE_EQ(t.evaluate(RamaClass::IleVal, 179, -179), 1.0);
  EXPECT_DOUBLE_EQ(t.evaluate(RamaClass::IleVal, 179 + 720, -179 - 360), 1.0);
  EXPECT_DOUBLE_EQ(t.evaluate(RamaClass::IleVal, -179, 179), 0.0);
}

TEST(RamachandranTables, RejectsAFileThatIsNotAGrid) {
  test::TempDir dir;
  write_tables(dir, RamaClass::General, {{{-61, -41}, 0.4}});
  test::write_text(dir.file(RamachandranTables::file_name(RamaClass::PreProline)), grid_text({}) + "-60.0 -41.0 0.5\n");
  try {
    RamachandranTables::load_folder(dir.path().string());
    FAIL() << "a value between bin centres was accepted";
  } catch (const FormatError& e) {
    EXPECT_NE(std::string(e.what()).find("rama8000-prepro-noGP.data:5"), std::string::npos) << e.what();
  }
  std::filesystem::remove(dir.file(RamachandranTables::file_name(RamaClass::CisProline)));
  EXPECT_THROW(RamachandranTables::load_folder(dir.path().string()), InputError);
}

TEST(RamachandranTables, ThresholdsPerClassAsRamalyze) {
  test::TempDir dir;
  write_tables(dir, RamaClass::General, {{{1, 1}, 1.0}});
  const auto t = RamachandranTables::load_folder(dir.path().string());
  for (RamaClass c : kAllClasses) {
    EXPECT_EQ(t.categorise(c, 0.02), RamaCategory::Favoured);
    EXPECT_EQ(t.categorise(c, 0.0199), RamaCategory::Allowed);
    EXPECT_EQ(t.categorise(c, NAN), RamaCategory::NotEvaluated);
    EXPECT_EQ(t.categorise(c, 0.0), RamaCategory::Outlier);
  }
  EXPECT_EQ(t.categorise(RamaClass::General, 0.0005), RamaCategory::Allowed);
  EXPECT_EQ(t.categorise(RamaClass::General, 0.000499), RamaCategory::Outlier);
  EXPECT_EQ(t.categorise(RamaClass::CisProline, 0.0020), RamaCategory::Allowed);
  EXPECT_EQ(t.categorise(RamaClass::CisProline, 0.00199), RamaCategory::Outlier);
  for (RamaClass c : {RamaClass::Glycine, RamaClass::TransProline, RamaClass::PreProline, RamaClass::IleVal}) {
    EXPECT_EQ(t.categorise(c, 0.0010), RamaCategory::Allowed);
    EXPECT_EQ(t.categorise(c, 0.00099), RamaCategory::Outlier);
  }
  EXPECT_EQ(to_string(RamaClass::IleVal), "Ile/Val");
  EXPECT_EQ(to_string(RamaCategory::Outlier), "OUTLIER");
}

// Values of cctbx's evaluator (mmtbx.rotamer.ramachandran_eval.RamachandranEval().evaluate)
// at points between bin centres; its grids hold 6 significant digits.
TEST(RamachandranTables, Top8000MatchesMolProbitysEvaluator) {
  const auto folder = test::shared_data_dir();
  MOLEARN_REQUIRE_FILE(folder / "rama8000" / RamachandranTables::file_name(RamaClass::General));
  const auto t = RamachandranTables::load(folder.string());
  struct Case {
    RamaClass cls;
    double phi, psi, cctbx;
  };
  for (const Case& c :
       {Case{RamaClass::General, -63.7, -41.2, 0.98150109}, Case{RamaClass::General, -120.3, 130.9, 0.54663278},
        Case{RamaClass::General, 60.5, -150.2, 0.004175526500000001},
        Case{RamaClass::Glycine, 80.1, -170.3, 0.5361852550000001},
        Case{RamaClass::CisProline, -75.2, 160.4, 0.9643321799999999},
        Case{RamaClass::TransProline, -65.5, -30.25, 0.52475665625},
        Case{RamaClass::PreProline, -130.7, 80.9, 0.6894217450000001},
        Case{RamaClass::IleVal, -110.2, 125.6, 0.6743605}, Case{RamaClass::General, 180.0, -180.0, 0.0050772925},
        Case{RamaClass::General, -179.5, 179.5, 0.006012345625}, Case{RamaClass::Glycine, 539.0, -541.0, 0.486238},
        Case{RamaClass::General, 2.0, 3.0, 0.0}})
    EXPECT_NEAR(t.evaluate(c.cls, c.phi, c.psi), c.cctbx, 5e-6 * c.cctbx) << to_string(c.cls) << " " << c.phi;
}

// The grids scripts/make-rama-tables.py writes at build time (sampled from
// cctbx) equal the Richardson lab's files to the 6 digits cctbx keeps.
TEST(RamachandranTables, GeneratedGridsEqualTheRichardsonLabFiles) {
  const auto shared = test::shared_data_dir() / "rama8000";
  const auto built = std::filesystem::path(MOLEARN_BUILD_SHARE_DIR) / "rama8000";
  MOLEARN_REQUIRE_FILE(shared / RamachandranTables::file_name(RamaClass::General));
  MOLEARN_REQUIRE_FILE(built / RamachandranTables::file_name(RamaClass::General));
  const auto a = RamachandranTables::load_folder(shared.string()), b = RamachandranTables::load_folder(built.string());
  for (RamaClass c : kAllClasses)
    for (double phi = -180; phi <= 180; phi += 1.25)
      for (double psi = -180; psi <= 180; psi += 1.25) {
        const double x = a.evaluate(c, phi, psi), y = b.evaluate(c, phi, psi);
        ASSERT_NEAR(x, y, 5e-6 * x) << to_string(c) << " " << phi << " " << psi;
      }
}

ResidueBackbone residue(const std::string& name, bool previous, bool next) {
  ResidueBackbone b;
  b.res_name = name;
  b.amino_acid = true;
  b.bonded_to_previous = previous;
  b.bonded_to_next = next;
  return b;
}

TEST(RamaClassOf, FollowsRamalyzesOrderOfRules) {
  // GLY before PRO stays Gly; ILE before PRO is pre-Pro; PRO's own class from its omega.
  std::vector<ResidueBackbone> bb = {
      residue("ALA", false, true), residue("GLY", true, true),  residue("PRO", true, true),
      residue("ILE", true, true),  residue("PRO", true, true),  residue("VAL", true, true),
      residue("LEU", true, false), residue("PRO", false, true), residue("PRO", true, false)};
  BackboneDihedrals d;
  d.omega = {NAN, 180, 10, 175, -29.9, 180, 180, NAN, NAN};
  d.phi = d.psi = std::vector<double>(bb.size(), -60.0);
  const RamaClass expected[] = {RamaClass::General,    RamaClass::Glycine,      RamaClass::CisProline,
                                RamaClass::PreProline, RamaClass::CisProline,   RamaClass::IleVal,
                                RamaClass::General,    RamaClass::TransProline, RamaClass::TransProline};
  for (std::size_t r = 0; r < bb.size(); ++r) EXPECT_EQ(rama_class_of(bb, d, r), expected[r]) << r;
  d.omega[2] = 30;  // the cis range is open: (-30, 30)
  EXPECT_EQ(rama_class_of(bb, d, 2), RamaClass::TransProline);
}

TEST(RamachandranResidues, NotEvaluatedWithoutPhiOrPsi) {
  test::TempDir dir;
  write_tables(dir, RamaClass::General, {{{-61, -41}, 0.5}});
  const auto t = RamachandranTables::load_folder(dir.path().string());
  std::vector<ResidueBackbone> bb = {residue("ALA", false, true), residue("ALA", true, true),
                                     residue("ALA", true, false)};
  BackboneDihedrals d{{NAN, -61, -61}, {-41, -41, NAN}, {NAN, 180, 180}};
  const auto res = ramachandran_residues(bb, d, t);
  ASSERT_EQ(res.size(), 3u);
  EXPECT_EQ(res[0].category, RamaCategory::NotEvaluated);
  EXPECT_TRUE(std::isnan(res[0].score));
  EXPECT_EQ(res[1].category, RamaCategory::Favoured);
  EXPECT_DOUBLE_EQ(res[1].score, 0.5);
  EXPECT_EQ(res[2].category, RamaCategory::NotEvaluated);
}

TEST(RamachandranMetrics, EveryResidueButTheTerminiIsCountedOnTheDemo) {
  const auto folder = test::shared_data_dir();
  MOLEARN_REQUIRE_FILE(folder / "rama8000" / RamachandranTables::file_name(RamaClass::General));
  const auto t = RamachandranTables::load(folder.string());
  Conformers c = read_conformers(kDemoDcd, kDemoTop);
  const MetricTable m = ramachandran_metrics(c, t, 2);
  ASSERT_EQ(m.rows.size(), 32u);
  const auto fav = m.column("rama_favoured"), allowed = m.column("rama_allowed"), out = m.column("rama_outliers"),
             frac = m.column("rama_favoured_fraction");
  for (std::size_t f = 0; f < 32; ++f) {
    EXPECT_EQ(fav[f] + allowed[f] + out[f], 65.0) << f;  // 67 residues, one chain
    EXPECT_DOUBLE_EQ(frac[f], fav[f] / 65.0);
  }
  // molprobity.ramalyze on model 1: 62 Favored, 3 Allowed, 0 Outlier out of 65.
  EXPECT_EQ(fav[0], 62.0);
  EXPECT_EQ(allowed[0], 3.0);
  // Threads do not change the result.
  EXPECT_EQ(ramachandran_metrics(c, t, 1).rows, m.rows);

  // A NaN coordinate in the backbone makes that frame's values NaN, not fewer residues.
  std::size_t ca = 20;
  while (c.topology.atom(ca).name != "CA") ++ca;
  c.xyz[3 * (c.atom_count() * 4 + ca)] = NAN;
  const MetricTable nan_frame = ramachandran_metrics(c, t, 2);
  for (double v : nan_frame.rows[4]) EXPECT_TRUE(std::isnan(v));
  EXPECT_EQ(nan_frame.rows[5], m.rows[5]);
}

TEST(RamachandranMetrics, SingleResidueHasNothingToEvaluate) {
  test::TempDir dir;
  write_tables(dir, RamaClass::General, {{{1, 1}, 1.0}});
  const auto t = RamachandranTables::load_folder(dir.path().string());
  Conformers c;
  std::vector<Atom> atoms;
  for (const char* name : {"N", "CA", "C", "O", "CB"}) atoms.push_back(Atom{name, "ALA", 1, ' ', "A", {}, false, 0});
  c.topology = Topology(atoms);
  c.termini = {ResidueTermini{true, true}};
  c.frame_count = 1;
  c.xyz = {0, 0, 0, 1.46f, 0, 0, 2, 1.4f, 0, 3.2f, 1.5f, 0, 2, -0.8f, 1.2f};
  const MetricTable m = ramachandran_metrics(c, t, 1);
  ASSERT_EQ(m.rows.size(), 1u);
  EXPECT_EQ(m.rows[0][0] + m.rows[0][1] + m.rows[0][2], 0.0);
  EXPECT_TRUE(std::isnan(m.column("rama_favoured_fraction")[0]));
}

}  // namespace
}  // namespace molearn
