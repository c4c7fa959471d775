#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>

#include "molearn/analysis/rmsd.hpp"
#include "molearn/core/error.hpp"
#include "molearn/data/geometry.hpp"
#include "test_support.hpp"

namespace molearn {
namespace {

const std::string kDemoTop = (test::source_dir() / "examples/data/2mi7_heavy_topology.pdb").string();
const std::string kDemoDcd = (test::source_dir() / "examples/data/2mi7_heavy.dcd").string();

// Rotates (about axis (1,2,3), by `degrees`) and translates a copy of x.
std::vector<float> moved(std::span<const float> x, double degrees, double shift) {
  const double n = std::sqrt(14.0), ux = 1 / n, uy = 2 / n, uz = 3 / n;
  const double t = degrees * M_PI / 180, c = std::cos(t), s = std::sin(t), C = 1 - c;
  const double r[9] = {c + ux * ux * C,      ux * uy * C - uz * s, ux * uz * C + uy * s,
                       uy * ux * C + uz * s, c + uy * uy * C,      uy * uz * C - ux * s,
                       uz * ux * C - uy * s, uz * uy * C + ux * s, c + uz * uz * C};
  std::vector<float> out(x.size());
  for (std::size_t i = 0; i < x.size() / 3; ++i)
    for (int k = 0; k < 3; ++k)
      out[3 * i + k] =
          static_cast<float>(r[3 * k] * x[3 * i] + r[3 * k + 1] * x[3 * i + 1] + r[3 * k + 2] * x[3 * i + 2] + shift);
  return out;
}

TEST(QcpRmsd, WorkedByHand) {
  // Two atoms 2 Å apart against two atoms 4 Å apart: each atom ends 1 Å off.
  // (Collinear structures make the largest eigenvalue a double root: Newton
  // then stops near sqrt(machine epsilon) of it, hence 1e-7.)
  EXPECT_NEAR(qcp_rmsd(std::vector<float>{-1, 0, 0, 1, 0, 0}, std::vector<float>{0, -2, 5, 0, 2, 5}), 1.0, 1e-7);
  // A chiral tetrahedron against its mirror image: a proper rotation cannot
  // undo a reflection; 0.5 Å is numpy's Kabsch with the determinant
  // correction on the same points.
  const std::vector<float> t = {0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1};
  const std::vector<float> mirror = {0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, -1};
  EXPECT_NEAR(qcp_rmsd(t, mirror), 0.5, 1e-7);
  EXPECT_NEAR(qcp_rmsd(t, moved(t, 77, 3.5)), 0.0, 1e-5);
}

TEST(QcpRmsd, AgreesWithKabschOnTheDemoEnsemble) {
  const Conformers c = read_conformers(kDemoDcd, kDemoTop);
  for (std::size_t f : {1u, 7u, 31u}) {
    std::vector<float> mobile(c.frame(f).begin(), c.frame(f).end());
    const double kabsch = superpose(mobile, c.frame(0));  // the dataset code's SVD route
    EXPECT_NEAR(qcp_rmsd(c.frame(f), c.frame(0)), kabsch, 1e-4) << f;
    // Rotating either structure changes nothing.
    EXPECT_NEAR(qcp_rmsd(moved(c.frame(f), 123, -20), c.frame(0)), kabsch, 1e-4) << f;
    EXPECT_GT(kabsch, 0.5);
  }
}

TEST(QcpRmsd, NonFiniteSingleAtomAndSizeErrors) {
  const float nan = std::numeric_limits<float>::quiet_NaN(), inf = std::numeric_limits<float>::infinity();
  EXPECT_TRUE(std::isnan(qcp_rmsd(std::vector<float>{0, 0, 0, 1, nan, 0}, std::vector<float>{0, 0, 0, 1, 0, 0})));
  EXPECT_TRUE(std::isnan(qcp_rmsd(std::vector<float>{0, 0, 0, 1, 0, 0}, std::vector<float>{0, 0, 0, inf, 0, 0})));
  EXPECT_EQ(qcp_rmsd(std::vector<float>{1, 2, 3}, std::vector<float>{7, 8, 9}), 0.0);
  EXPECT_TRUE(std::isnan(qcp_rmsd({}, {})));
  EXPECT_THROW(qcp_rmsd(std::vector<float>{1, 2, 3}, std::vector<float>{1, 2, 3, 4, 5, 6}), InputError);
}

TEST(RmsdMetrics, SuperposedAndUnfittedColumnsWithThreads) {
  Conformers c = read_conformers(kDemoDcd, kDemoTop);
  // The reference: frame 0 shifted by (3, 4, 0): the unfitted RMSD of frame 0 is 5 Å.
  std::vector<float> reference(c.frame(0).begin(), c.frame(0).end());
  for (std::size_t i = 0; i < reference.size(); i += 3) reference[i] += 3, reference[i + 1] += 4;
  // Frame 2 gets a NaN coordinate.
  c.xyz[2 * 3 * c.atom_count() + 10] = std::numeric_limits<float>::quiet_NaN();
  const MetricTable one = rmsd_metrics(c, reference, 1), three = rmsd_metrics(c, reference, 3);
  ASSERT_EQ(one.columns, (std::vector<std::string>{"rmsd", "rmsd_unfitted"}));
  ASSERT_EQ(one.rows.size(), 32u);
  EXPECT_NEAR(one.rows[0][0], 0.0, 1e-4);
  EXPECT_NEAR(one.rows[0][1], 5.0, 1e-5);
  EXPECT_TRUE(std::isnan(one.rows[2][0]));
  EXPECT_TRUE(std::isnan(one.rows[2][1]));
  for (std::size_t f = 0; f < 32; ++f) {
    if (f == 2) continue;
    EXPECT_NEAR(one.rows[f][0], qcp_rmsd(c.frame(f), c.frame(0)), 1e-6) << f;
    EXPECT_EQ(one.rows[f], three.rows[f]) << f;
  }
  EXPECT_THROW(rmsd_metrics(c, std::span<const float>(reference).first(30), 1), InputError);
}

TEST(RmsdMetrics, SingleResidue) {
  const Conformers all = read_conformers(kDemoDcd, kDemoTop);
  Conformers c;
  const std::vector<std::size_t> first = {0, 1, 2, 3};  // GLY 1: N CA C O
  c.topology = all.topology.subset(first);
  c.frame_count = 2;
  for (std::size_t f : {0u, 5u})
    for (std::size_t i : first) c.xyz.insert(c.xyz.end(), &all.frame(f)[3 * i], &all.frame(f)[3 * i] + 3);
  const MetricTable t = rmsd_metrics(c, c.frame(0), 2);
  EXPECT_NEAR(t.rows[0][0], 0.0, 1e-5);
  EXPECT_TRUE(std::isfinite(t.rows[1][0]));
  EXPECT_LT(t.rows[1][0], t.rows[1][1]);  // superposition only ever helps
}

}  // namespace
}  // namespace molearn
