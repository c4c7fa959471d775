#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "molearn/analysis/ensemble_comparison.hpp"
#include "molearn/analysis/rmsd.hpp"
#include "molearn/core/error.hpp"
#include "test_support.hpp"

namespace molearn {
namespace {

const std::string kDemoTop = (test::source_dir() / "examples/data/2mi7_heavy_topology.pdb").string();
const std::string kDemoDcd = (test::source_dir() / "examples/data/2mi7_heavy.dcd").string();

// Frames [first, first + count) of c.
Conformers frames(const Conformers& c, std::size_t first, std::size_t count) {
  Conformers out = c;
  out.frame_count = count;
  out.xyz.assign(c.xyz.begin() + first * 3 * c.atom_count(), c.xyz.begin() + (first + count) * 3 * c.atom_count());
  return out;
}

TEST(CompareEnsembles, AnEnsembleAgainstARigidlyMovedCopyOfItself) {
  const Conformers reference = read_conformers(kDemoDcd, kDemoTop);
  Conformers generated = reference;
  // Move every frame differently: a rotation about z and a shift.
  for (std::size_t f = 0; f < generated.frame_count; ++f) {
    const double t = 0.2 * double(f), c = std::cos(t), s = std::sin(t);
    for (std::size_t i = 0; i < generated.atom_count(); ++i) {
      float* p = &generated.xyz[(f * generated.atom_count() + i) * 3];
      const double x = p[0], y = p[1];
      p[0] = static_cast<float>(c * x - s * y + 5.0 * double(f));
      p[1] = static_cast<float>(s * x + c * y);
    }
  }
  const EnsembleComparison e = compare_ensembles(generated, reference, 2);
  ASSERT_EQ(e.residues.size(), 67u);
  EXPECT_EQ(e.residues[1], "A:SER 2");
  ASSERT_EQ(e.rmsf_generated.size(), 67u);
  for (std::size_t r = 0; r < 67; ++r) {
    EXPECT_NEAR(e.rmsf_generated[r], e.rmsf_reference[r], 1e-3) << r;
    EXPECT_GT(e.rmsf_reference[r], 0.0);
  }
  EXPECT_NEAR(e.rmsf_pearson, 1.0, 1e-6);
  ASSERT_EQ(e.pairwise_rmsd_generated.size(), 32u * 31 / 2);
  ASSERT_EQ(e.pairwise_rmsd_cross.size(), 32u * 32);
  for (std::size_t k = 0; k < e.pairwise_rmsd_generated.size(); ++k)
    EXPECT_NEAR(e.pairwise_rmsd_generated[k], e.pairwise_rmsd_reference[k], 1e-3) << k;
  // Row-major order: pair (0, 1) first, (30, 31) last; cross (i, i) is 0.
  EXPECT_NEAR(e.pairwise_rmsd_reference.front(), qcp_rmsd(reference.frame(0), reference.frame(1)), 1e-9);
  EXPECT_NEAR(e.pairwise_rmsd_reference.back(), qcp_rmsd(reference.frame(30), reference.frame(31)), 1e-9);
  for (std::size_t i = 0; i < 32; ++i) EXPECT_NEAR(e.pairwise_rmsd_cross[i * 32 + i], 0.0, 1e-3);
  EXPECT_NEAR(e.pairwise_rmsd_cross[3 * 32 + 7], qcp_rmsd(reference.frame(3), reference.frame(7)), 1e-3);
  EXPECT_NEAR(e.w2_pca, 0.0, 1e-3);
  EXPECT_GT(e.pca_variance_fraction, 0.1);
  EXPECT_LE(e.pca_variance_fraction, 1.0);
}

TEST(CompareEnsembles, DifferentEnsemblesAreApart) {
  const Conformers all = read_conformers(kDemoDcd, kDemoTop);
  const EnsembleComparison same = compare_ensembles(all, all, 1);
  const EnsembleComparison part = compare_ensembles(frames(all, 0, 4), all, 1);
  EXPECT_NEAR(same.w2_pca, 0.0, 1e-3);
  EXPECT_GT(part.w2_pca, 0.1);
  EXPECT_EQ(part.pairwise_rmsd_generated.size(), 6u);
  EXPECT_EQ(part.pairwise_rmsd_cross.size(), 4u * 32);
  // The same threads or not.
  const EnsembleComparison threaded = compare_ensembles(frames(all, 0, 4), all, 3);
  EXPECT_EQ(threaded.pairwise_rmsd_cross, part.pairwise_rmsd_cross);
  EXPECT_NEAR(threaded.w2_pca, part.w2_pca, 1e-9);
}

TEST(CompareEnsembles, NaNFramesGiveNaNWhereTheyEnter) {
  const Conformers reference = read_conformers(kDemoDcd, kDemoTop);
  Conformers generated = frames(reference, 0, 5);
  generated.xyz[2 * 3 * generated.atom_count() + 4] = std::numeric_limits<float>::quiet_NaN();  // frame 2, CA 1
  const EnsembleComparison e = compare_ensembles(generated, reference, 2);
  for (double v : e.rmsf_generated) EXPECT_TRUE(std::isnan(v));
  for (double v : e.rmsf_reference) EXPECT_TRUE(std::isfinite(v));
  EXPECT_TRUE(std::isnan(e.rmsf_pearson));
  EXPECT_TRUE(std::isnan(e.w2_pca));
  EXPECT_TRUE(std::isnan(e.pairwise_rmsd_generated[1]));     // pair (0, 2)
  EXPECT_TRUE(std::isfinite(e.pairwise_rmsd_generated[0]));  // pair (0, 1)
  EXPECT_TRUE(std::isnan(e.pairwise_rmsd_cross[2 * 32 + 5]));
  EXPECT_TRUE(std::isfinite(e.pairwise_rmsd_cross[1 * 32 + 5]));
}

TEST(CompareEnsembles, TopologiesMustMatch) {
  const Conformers all = read_conformers(kDemoDcd, kDemoTop);
  Conformers other = all;
  other.topology.atoms()[5].name = "XX";
  try {
    compare_ensembles(other, all, 1);
    FAIL() << "different topologies accepted";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("atom 5"), std::string::npos) << e.what();
  }
  const Conformers backbone = read_conformers(kDemoDcd, kDemoTop, "backbone");
  EXPECT_THROW(compare_ensembles(backbone, all, 1), InputError);
}

TEST(CompareEnsembles, SingleResidue) {
  const Conformers gly = read_conformers(kDemoDcd, kDemoTop, "N,CA,C,O");
  Conformers one;
  one.topology = gly.topology.subset({0, 1, 2, 3});
  one.frame_count = gly.frame_count;
  for (std::size_t f = 0; f < gly.frame_count; ++f)
    one.xyz.insert(one.xyz.end(), gly.frame(f).begin(), gly.frame(f).begin() + 12);
  const EnsembleComparison e = compare_ensembles(one, one, 2);
  ASSERT_EQ(e.rmsf_reference.size(), 1u);
  EXPECT_NEAR(e.rmsf_reference[0], 0.0, 1e-6);  // one CA superposed on itself
  EXPECT_TRUE(std::isnan(e.rmsf_pearson));
  EXPECT_EQ(e.pairwise_rmsd_reference.size(), gly.frame_count * (gly.frame_count - 1) / 2);
}

}  // namespace
}  // namespace molearn
