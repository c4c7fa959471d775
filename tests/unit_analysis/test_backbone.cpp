#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "molearn/analysis/backbone.hpp"
#include "test_support.hpp"

namespace molearn {
namespace {

const std::string kDemoTop = (test::source_dir() / "examples/data/2mi7_heavy_topology.pdb").string();
const std::string kDemoDcd = (test::source_dir() / "examples/data/2mi7_heavy.dcd").string();

TEST(Dihedral, WorkedByHand) {
  const float a[3] = {1, 0, 0}, b[3] = {0, 0, 0}, c[3] = {0, 0, 1};
  // d a quarter turn from a about b->c: +90 or -90 by IUPAC's sign (numpy's formula agrees).
  const float d_plus[3] = {0, 1, 1}, d_minus[3] = {0, -1, 1}, d_cis[3] = {2, 0, 3}, d_trans[3] = {-1, 0, 1};
  EXPECT_NEAR(dihedral_degrees(a, b, c, d_plus), 90.0, 1e-9);
  EXPECT_NEAR(dihedral_degrees(a, b, c, d_minus), -90.0, 1e-9);
  EXPECT_NEAR(dihedral_degrees(a, b, c, d_cis), 0.0, 1e-9);
  EXPECT_NEAR(dihedral_degrees(a, b, c, d_trans), 180.0, 1e-9);  // (-180, 180]
  const float collinear[3] = {0, 0, 5}, nan[3] = {std::numeric_limits<float>::quiet_NaN(), 0, 0};
  EXPECT_TRUE(std::isnan(dihedral_degrees(a, b, c, collinear)));
  EXPECT_TRUE(std::isnan(dihedral_degrees(a, b, c, nan)));
}

TEST(BackboneDihedrals, ChainEndsAndNaNAtoms) {
  Conformers c = read_conformers(kDemoDcd, kDemoTop);
  // A chain end between residues 30 and 31 (as a decoded path's topology could carry).
  c.termini[29].c_terminal = true;
  c.termini[30].n_terminal = true;
  const std::vector<ResidueBackbone> backbone = backbone_of(c);
  ASSERT_EQ(backbone.size(), 67u);
  EXPECT_EQ(backbone[0].cb, kNoAtom);  // GLY 1
  EXPECT_NE(backbone[1].cb, kNoAtom);
  EXPECT_FALSE(backbone[29].bonded_to_next);
  EXPECT_FALSE(backbone[30].bonded_to_previous);
  EXPECT_TRUE(backbone[31].bonded_to_previous);
  std::vector<float> x(c.frame(0).begin(), c.frame(0).end());
  x[3 * backbone[40].ca] = std::numeric_limits<float>::quiet_NaN();
  const BackboneDihedrals d = backbone_dihedrals(backbone, x);
  EXPECT_TRUE(std::isnan(d.phi[0]));
  EXPECT_TRUE(std::isnan(d.omega[0]));
  EXPECT_TRUE(std::isnan(d.psi[66]));
  EXPECT_TRUE(std::isnan(d.psi[29]));
  EXPECT_TRUE(std::isnan(d.phi[30]));
  EXPECT_TRUE(std::isnan(d.omega[30]));
  EXPECT_TRUE(std::isfinite(d.phi[29]) && std::isfinite(d.psi[30]));
  // The NaN CA of residue 41 spoils exactly the angles through it.
  EXPECT_TRUE(std::isnan(d.phi[40]) && std::isnan(d.psi[40]) && std::isnan(d.omega[40]) && std::isnan(d.omega[41]));
  EXPECT_TRUE(std::isfinite(d.psi[39]) && std::isfinite(d.phi[41]) && std::isfinite(d.psi[41]));
  // Trans peptides of an NMR model.
  for (std::size_t r = 1; r < 67; ++r) {
    if (r == 30 || r == 40 || r == 41) continue;
    EXPECT_GT(std::abs(d.omega[r]), 150.0) << r;
  }
}

}  // namespace
}  // namespace molearn
