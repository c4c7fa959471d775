// How well a generated ensemble reproduces a reference ensemble (MD frames):
// the ensemble metrics of AlphaFlow (Jing et al., ICML 2024) — per-residue
// flexibility, the spread of pairwise distances, and the overlap of the two
// sets in the reference's principal-component plane.
#pragma once

#include <string>
#include <vector>

#include "molearn/analysis/conformers.hpp"

namespace molearn {

struct EnsembleComparison {
  // One entry per residue with a CA atom (labels like "A:SER 2").
  std::vector<std::string> residues;
  // RMSF of each CA in Å. Every frame of both sets is superposed (on its CA
  // atoms, Kabsch) on the reference ensemble's mean structure, found by
  // iterating: superpose on the current mean (first: reference frame 0),
  // average, repeat until the mean moves less than 1e-4 Å RMS (at most 10
  // rounds). Each set's RMSF is about its own mean.
  std::vector<double> rmsf_generated, rmsf_reference;
  double rmsf_pearson = 0;  // Pearson r of the two RMSF profiles; NaN when one is constant
  // RMSD (Å, qcp_rmsd over all atoms of the conformers) of every pair i < j
  // of generated frames, of reference frames, and of every (generated,
  // reference) pair (row-major: generated index first).
  std::vector<double> pairwise_rmsd_generated, pairwise_rmsd_reference, pairwise_rmsd_cross;
  // 2-Wasserstein distance (Å) between Gaussians fitted to both sets projected
  // on the first two principal components of the reference's aligned CA
  // coordinates: sqrt(|m1 - m2|^2 + tr(S1 + S2 - 2 (S2^1/2 S1 S2^1/2)^1/2)),
  // population covariances. NaN with fewer than 3 reference frames.
  double w2_pca = 0;
  // The fraction of the reference's CA variance those two components hold.
  double pca_variance_fraction = 0;
};

// Both sets must have the same topology (atom and residue names, numbers and
// chains, in the same order) and CA atoms: InputError naming the first
// difference otherwise. A frame with a non-finite coordinate gives NaN in
// every value it enters (the RMSF and W2 of its set, its pairwise RMSDs),
// never a crash. Work is split over `threads` threads (0: every core).
EnsembleComparison compare_ensembles(const Conformers& generated, const Conformers& reference, int threads);

}  // namespace molearn
