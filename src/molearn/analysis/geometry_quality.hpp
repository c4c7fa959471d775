// Geometry quality of conformations (decoded structures above all): how far
// bonds and angles are from the force field's equilibrium values, and the
// gross errors a model makes (overlapping atoms, cis peptides, mirrored
// residues). One row per frame.
#pragma once

#include "molearn/analysis/conformers.hpp"
#include "molearn/analysis/ideal_geometry.hpp"
#include "molearn/analysis/metric_table.hpp"

namespace molearn {

// Thresholds of the counts below.
inline constexpr double kStretchedBond = 0.1;  // Å: |r - r0| above this is a stretched bond
// Non-bonded heavy atoms closer than this clash. Note that hydrogen-bonded
// N/O pairs (2.7-3.0 Å) are below it, so native structures have a few too.
inline constexpr double kClashDistance = 3.0;   // Å
inline constexpr int kClashExclusionBonds = 3;  // 1-2, 1-3 and 1-4 pairs never clash
inline constexpr double kCisOmega = 30.0;       // degrees: |omega| < 30 is a cis peptide bond

// Columns, per frame:
//   bond_rms_deviation   Å, RMS over ideal.bonds of (r - r0)
//   max_bond_deviation   Å, the largest |r - r0|
//   angle_rms_deviation  degrees, RMS over ideal.angles of (theta - theta0)
//   stretched_bonds      bonds with |r - r0| > kStretchedBond
//   clashes              pairs of heavy atoms of protein residues closer than
//                        kClashDistance and more than kClashExclusionBonds
//                        bonds apart on the bond graph of `ideal` (found with
//                        a neighbour grid)
//   cis_peptides         peptide bonds with |omega| < kCisOmega (omega =
//                        CA-C-N-CA across the bond), cis-Pro included
//   cis_nonpro_peptides  the same, leaving out bonds to the N of a proline
//   d_residues           residues with a positive N-CA-C-CB improper
//                        dihedral: D amino acids (L ones are near -123°, as
//                        every residue of the 2MI7 NMR models); residues
//                        without CB (Gly) are left out
// A value is NaN when a coordinate it needs is not finite (a count too: it
// would be a guess); the RMS deviations are NaN when there is no bond or
// angle to measure, while counts of nothing (a single residue has no peptide
// bond) are 0.
MetricTable geometry_metrics(const Conformers& c, const IdealGeometry& ideal, int threads);

}  // namespace molearn
