// Losses that teach an autoencoder chemistry, and the per-epoch measure of
// it. The reconstruction MSE places atoms to about 1 Å but does not know that
// a bond is 1.33 Å long or that a residue is L: these terms compare the
// reconstruction's local geometry with the force field's ideal values and
// with the input's, as Python molearn's AE-DM trainer does with distances.
#pragma once

#include <torch/torch.h>

#include <string>
#include <vector>

#include "molearn/data/dataset.hpp"
#include "molearn/physics/forcefield.hpp"
#include "molearn/train/loss_terms.hpp"
#include "molearn/train/train_options.hpp"

namespace molearn {

// The pairs, quadruples and ideal values the terms need, built once from the
// dataset's topology and chain ends. Indices are atom indices of the dataset.
class GeometryLoss {
 public:
  // `ff` gives the ideal bonds and angles (null: the bonded term and the bond
  // metric are unavailable). Throws InputError when a term with a weight has
  // nothing to measure (e.g. --bonded-weight on a dataset whose residues match
  // no template, a dihedral weight without N, CA and C atoms).
  GeometryLoss(const Dataset& dataset, const GeometryLossOptions& options, const ForceField* ff, std::uint64_t seed);

  // The terms with a weight > 0, each returning its unweighted value (mean
  // over the batch, squared scaled units) for TrainOptions-style logging:
  // name, weight, term. Names: bonded, local_distance, nonlocal_distance,
  // dihedral.
  std::vector<std::tuple<std::string, double, LossTerm>> terms() const;

  // Whether bonds to measure were found (a force field and protein residues).
  bool has_bonds() const { return bond_atoms_.defined() && bond_atoms_.size(0) > 0; }
  std::size_t bond_count() const { return has_bonds() ? static_cast<std::size_t>(bond_atoms_.size(0)) : 0; }
  // Per structure of `coords` ([B, 3, atoms], scaled): the RMS deviation of
  // bond lengths from ideal in Å, and the number of bonds off by more than
  // 0.1 Å. Requires has_bonds().
  std::pair<torch::Tensor, torch::Tensor> bond_deviation(const torch::Tensor& coords) const;

 private:
  GeometryLossOptions options_;
  double std_ = 1;  // Å per scaled unit
  // Bonded: ideal bonds (1-2) and angle (1-3) distances, in scaled units.
  torch::Tensor bond_atoms_, bond_lengths_;      // [nb, 2], [nb]
  torch::Tensor bonded_atoms_, bonded_lengths_;  // bonds then 1-3 pairs
  torch::Tensor chirality_atoms_;                // [nr, 4]: N, CA, C, CB
  torch::Tensor local_pairs_, nonlocal_pairs_;   // [np, 2]
  torch::Tensor dihedral_atoms_;                 // [nd, 4]
};

}  // namespace molearn
