// The bond graph of a molecule and the angles and torsions it implies,
// enumerated in the order OpenMM's Python ForceField uses (which matters for
// the improper-torsion rules and makes systems comparable term by term).
#pragma once

#include <array>
#include <cstddef>
#include <utility>
#include <vector>

namespace molearn {

class BondGraph {
 public:
  BondGraph(std::size_t atom_count, const std::vector<std::array<int, 2>>& bonds);

  std::size_t atom_count() const { return neighbours_.size(); }
  // Atoms bonded to `atom`, in increasing order, each once.
  const std::vector<int>& neighbours(int atom) const { return neighbours_[atom]; }

  // Every angle i-j-k (i, k bonded to j) once, written with i < k; sorted.
  std::vector<std::array<int, 3>> angles() const;
  // Every proper torsion i-j-k-l (a path of three bonds through four
  // distinct atoms) once, written with i < l; sorted.
  std::vector<std::array<int, 4>> propers() const;
  // Improper torsion candidates: each atom with three or more neighbours,
  // with every combination of three of them (in increasing order): (centre,
  // a, b, c), centres in increasing order.
  std::vector<std::array<int, 4>> improper_candidates() const;
  // Pairs i < j separated by one or two bonds (the soft-core exclusions).
  std::vector<std::pair<int, int>> pairs_within_two_bonds() const;

 private:
  std::vector<std::vector<int>> neighbours_;
};

}  // namespace molearn
