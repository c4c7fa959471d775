#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <set>

#include "molearn/analysis/backbone.hpp"
#include "molearn/analysis/geometry_quality.hpp"
#include "molearn/analysis/ideal_geometry.hpp"
#include "molearn/analysis/neighbour_grid.hpp"
#include "molearn/core/error.hpp"
#include "molearn/physics/forcefield_reader.hpp"
#include "test_support.hpp"

namespace molearn {
namespace {

const std::string kDemoTop = (test::source_dir() / "examples/data/2mi7_heavy_topology.pdb").string();
const std::string kDemoDcd = (test::source_dir() / "examples/data/2mi7_heavy.dcd").string();

const ForceField& amber() {
  static const ForceField ff = read_forcefield(kDefaultForceField);
  return ff;
}

std::size_t atom_index(const Conformers& c, int res_seq, const std::string& name) {
  for (std::size_t i = 0; i < c.atom_count(); ++i)
    if (c.topology.atom(i).res_seq == res_seq && c.topology.atom(i).name == name) return i;
  throw InputError("no atom " + name + " in residue " + std::to_string(res_seq));
}

double ideal_length(const IdealGeometry& g, std::size_t i, std::size_t j) {
  for (const auto& b : g.bonds)
    if ((b.i == i && b.j == j) || (b.i == j && b.j == i)) return b.length;
  return -1;
}

double column(const MetricTable& t, std::size_t frame, const std::string& name) {
  return t.rows[frame][t.column_index(name)];
}

TEST(IdealGeometry, AmberEquilibriumValuesForTheDemoProtein) {
  const Conformers c = read_conformers(kDemoDcd, kDemoTop);
  const IdealGeometry g = ideal_geometry(amber(), c);
  // protein.ff14SB.xml: C-N 0.1335 nm, CX-N 0.1449 nm, C-O 0.1229 nm.
  EXPECT_NEAR(ideal_length(g, atom_index(c, 10, "C"), atom_index(c, 11, "N")), 1.335, 1e-9);
  EXPECT_NEAR(ideal_length(g, atom_index(c, 11, "N"), atom_index(c, 11, "CA")), 1.449, 1e-9);
  EXPECT_NEAR(ideal_length(g, atom_index(c, 11, "C"), atom_index(c, 11, "O")), 1.229, 1e-9);
  // Heavy atoms of 67 residues: one bond per atom but one per chain, plus ring closures (TYR 34).
  EXPECT_EQ(g.bonds.size(), c.atom_count() - 1 + 1);
  EXPECT_GT(g.angles.size(), g.bonds.size());
  for (const auto& a : g.angles) ASSERT_TRUE(a.degrees > 100 && a.degrees < 130) << a.degrees;
}

TEST(IdealGeometry, PeptideBondsFollowTheChainNotTheGeometry) {
  Conformers c = read_conformers(kDemoDcd, kDemoTop);
  // Pull the second half of the chain 3 Å away: the C-N bond 33-34 is now
  // 4 Å long, but the chain (by its identifier) still goes on.
  for (std::size_t i = atom_index(c, 34, "N"); i < c.atom_count(); ++i) c.xyz[3 * i] += 3;
  const IdealGeometry g = ideal_geometry(amber(), c);
  EXPECT_NEAR(ideal_length(g, atom_index(c, 33, "C"), atom_index(c, 34, "N")), 1.335, 1e-9);
}

TEST(GeometryMetrics, NativeMirroredScaledAndCisStructures) {
  const Conformers native = read_conformers(kDemoDcd, kDemoTop);
  const IdealGeometry g = ideal_geometry(amber(), native);
  Conformers c = native;
  c.frame_count = 4;
  c.xyz.resize(4 * 3 * c.atom_count());
  std::copy_n(native.frame(0).begin(), 3 * c.atom_count(), c.xyz.begin() + 3 * 3 * c.atom_count());
  float* mirrored = c.xyz.data() + 1 * 3 * c.atom_count();
  float* scaled = c.xyz.data() + 2 * 3 * c.atom_count();
  float* cis = c.xyz.data() + 3 * 3 * c.atom_count();
  for (std::size_t i = 0; i < c.atom_count(); ++i)
    for (int k = 0; k < 3; ++k) {
      mirrored[3 * i + k] = k == 0 ? -native.frame(0)[3 * i] : native.frame(0)[3 * i + k];
      scaled[3 * i + k] = 1.2f * native.frame(0)[3 * i + k];
    }
  // Frame 3: the peptide bond 10-11 turned cis by rotating everything after
  // N 11 by 180 degrees about the C 10 -> N 11 axis (Rodrigues' formula).
  const std::size_t c10 = atom_index(c, 10, "C"), n11 = atom_index(c, 11, "N");
  double axis[3], origin[3];
  for (int k = 0; k < 3; ++k) {
    origin[k] = cis[3 * n11 + k];
    axis[k] = cis[3 * n11 + k] - cis[3 * c10 + k];
  }
  const double norm = std::sqrt(axis[0] * axis[0] + axis[1] * axis[1] + axis[2] * axis[2]);
  for (double& v : axis) v /= norm;
  for (std::size_t i = n11 + 1; i < c.atom_count(); ++i) {
    double v[3];
    for (int k = 0; k < 3; ++k) v[k] = cis[3 * i + k] - origin[k];
    const double along = v[0] * axis[0] + v[1] * axis[1] + v[2] * axis[2];
    for (int k = 0; k < 3; ++k) cis[3 * i + k] = static_cast<float>(origin[k] + 2 * along * axis[k] - v[k]);
  }

  const MetricTable t = geometry_metrics(c, g, 2);
  ASSERT_EQ(t.rows.size(), 4u);
  // NMR models: close to Amber's geometry, all trans, all L.
  EXPECT_LT(column(t, 0, "bond_rms_deviation"), 0.05);
  EXPECT_LT(column(t, 0, "angle_rms_deviation"), 5.0);
  EXPECT_EQ(column(t, 0, "cis_peptides"), 0);
  EXPECT_EQ(column(t, 0, "d_residues"), 0);
  // The mirror image keeps every length and angle and turns every residue
  // with a CB (all but the 9 glycines) into a D residue.
  EXPECT_NEAR(column(t, 1, "bond_rms_deviation"), column(t, 0, "bond_rms_deviation"), 1e-6);
  EXPECT_NEAR(column(t, 1, "angle_rms_deviation"), column(t, 0, "angle_rms_deviation"), 1e-4);
  EXPECT_EQ(column(t, 1, "d_residues"), 67 - 9);
  EXPECT_EQ(column(t, 1, "clashes"), column(t, 0, "clashes"));
  // Scaled by 1.2: every bond stretched by 0.25-0.3 Å, no angle changed.
  EXPECT_EQ(column(t, 2, "stretched_bonds"), double(g.bonds.size()));
  EXPECT_GT(column(t, 2, "max_bond_deviation"), 0.25);
  EXPECT_GE(column(t, 2, "max_bond_deviation"), column(t, 2, "bond_rms_deviation"));
  EXPECT_LT(column(t, 0, "max_bond_deviation"), kStretchedBond);
  EXPECT_NEAR(column(t, 2, "angle_rms_deviation"), column(t, 0, "angle_rms_deviation"), 1e-4);
  EXPECT_LE(column(t, 2, "clashes"), column(t, 0, "clashes"));  // everything moved apart
  // The rotated bond: one cis peptide (before LYS 11, not a proline).
  EXPECT_EQ(column(t, 3, "cis_peptides"), 1);
  EXPECT_EQ(column(t, 3, "cis_nonpro_peptides"), 1);
  EXPECT_EQ(column(t, 3, "d_residues"), 0);
  EXPECT_NEAR(column(t, 3, "bond_rms_deviation"), column(t, 0, "bond_rms_deviation"), 1e-6);
}

TEST(GeometryMetrics, NaNCoordinatesGiveNaNNotACrash) {
  Conformers c = read_conformers(kDemoDcd, kDemoTop);
  const IdealGeometry g = ideal_geometry(amber(), c);
  c.xyz[3 * c.atom_count() + 3 * atom_index(c, 20, "CA") + 1] = std::numeric_limits<float>::quiet_NaN();  // frame 1
  const MetricTable t = geometry_metrics(c, g, 3);
  for (std::size_t k = 0; k < t.columns.size(); ++k) {
    EXPECT_TRUE(std::isnan(t.rows[1][k])) << t.columns[k];
    EXPECT_TRUE(std::isfinite(t.rows[0][k])) << t.columns[k];
  }
}

TEST(GeometryMetrics, SingleResidue) {
  const Conformers all = read_conformers(kDemoDcd, kDemoTop);
  Conformers c;
  std::vector<std::size_t> ser;
  for (std::size_t i = 0; i < all.atom_count(); ++i)
    if (all.topology.atom(i).res_seq == 2) ser.push_back(i);
  c.topology = all.topology.subset(ser);
  c.termini = termini_from_chains(c.topology);  // both ends: a chain of its own
  c.frame_count = 1;
  for (std::size_t i : ser) c.xyz.insert(c.xyz.end(), &all.frame(0)[3 * i], &all.frame(0)[3 * i] + 3);
  const IdealGeometry g = ideal_geometry(amber(), c);
  EXPECT_EQ(g.bonds.size(), 5u);  // N-CA CA-C C-O CA-CB CB-OG
  const MetricTable t = geometry_metrics(c, g, 1);
  EXPECT_TRUE(std::isfinite(column(t, 0, "bond_rms_deviation")));
  EXPECT_EQ(column(t, 0, "cis_peptides"), 0);
  EXPECT_EQ(column(t, 0, "clashes"), 0);
  EXPECT_EQ(column(t, 0, "d_residues"), 0);
}

// Brute force over all pairs: the oracle of the cell list.
std::set<std::pair<std::size_t, std::size_t>> all_pairs_within(std::span<const float> x, double cutoff) {
  std::set<std::pair<std::size_t, std::size_t>> out;
  for (std::size_t i = 0; i < x.size() / 3; ++i)
    for (std::size_t j = i + 1; j < x.size() / 3; ++j) {
      double r2 = 0;
      for (int k = 0; k < 3; ++k) r2 += (double(x[3 * i + k]) - x[3 * j + k]) * (double(x[3 * i + k]) - x[3 * j + k]);
      if (r2 <= cutoff * cutoff) out.insert({i, j});
    }
  return out;
}

std::set<std::pair<std::size_t, std::size_t>> grid_pairs(std::span<const float> x, double cutoff) {
  std::set<std::pair<std::size_t, std::size_t>> out;
  for (const ClosePair& p : close_pairs(x, cutoff)) {
    EXPECT_LT(p.i, p.j);
    EXPECT_TRUE(out.insert({p.i, p.j}).second) << "pair listed twice";
  }
  return out;
}

TEST(NeighbourGrid, FindsExactlyThePairsWithinTheCutoff) {
  const Conformers c = read_conformers(kDemoDcd, kDemoTop);
  for (double cutoff : {1.0, 3.0, 6.5, 15.0, 100.0})
    EXPECT_EQ(grid_pairs(c.frame(0), cutoff), all_pairs_within(c.frame(0), cutoff)) << cutoff;
  // A structure blown apart (one atom 1e6 Å away) and NaN atoms: memory stays
  // bounded (wider cells) and NaN atoms are close to nothing.
  std::vector<float> wild(c.frame(3).begin(), c.frame(3).end());
  wild[0] = 1e6f;
  wild[30] = std::numeric_limits<float>::quiet_NaN();
  auto expected = all_pairs_within(wild, 4.0);
  std::erase_if(expected, [](const auto& p) { return p.first == 10 || p.second == 10; });
  EXPECT_EQ(grid_pairs(wild, 4.0), expected);
  EXPECT_TRUE(close_pairs({}, 3.0).empty());
  EXPECT_THROW(close_pairs(wild, 0.0), InputError);
}

}  // namespace
}  // namespace molearn
