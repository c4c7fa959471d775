#include "molearn/physics/bond_graph.hpp"

#include <algorithm>

namespace molearn {

BondGraph::BondGraph(std::size_t atom_count, const std::vector<std::array<int, 2>>& bonds) : neighbours_(atom_count) {
  for (const auto& [a, b] : bonds) {
    if (a == b) continue;
    neighbours_[a].push_back(b);
    neighbours_[b].push_back(a);
  }
  for (auto& n : neighbours_) {
    std::sort(n.begin(), n.end());
    n.erase(std::unique(n.begin(), n.end()), n.end());
  }
}

std::vector<std::array<int, 3>> BondGraph::angles() const {
  std::vector<std::array<int, 3>> result;
  for (int centre = 0; centre < static_cast<int>(neighbours_.size()); ++centre) {
    const auto& n = neighbours_[centre];
    for (std::size_t i = 0; i < n.size(); ++i)
      for (std::size_t k = i + 1; k < n.size(); ++k) result.push_back({n[i], centre, n[k]});
  }
  std::sort(result.begin(), result.end());
  return result;
}

std::vector<std::array<int, 4>> BondGraph::propers() const {
  std::vector<std::array<int, 4>> result;
  // Each torsion i-j-k-l around its central bond j-k, once: j < k.
  for (int j = 0; j < static_cast<int>(neighbours_.size()); ++j) {
    for (int k : neighbours_[j]) {
      if (k <= j) continue;
      for (int i : neighbours_[j]) {
        if (i == k) continue;
        for (int l : neighbours_[k]) {
          if (l == j || l == i) continue;
          if (i < l)
            result.push_back({i, j, k, l});
          else
            result.push_back({l, k, j, i});
        }
      }
    }
  }
  std::sort(result.begin(), result.end());
  return result;
}

std::vector<std::array<int, 4>> BondGraph::improper_candidates() const {
  std::vector<std::array<int, 4>> result;
  for (int centre = 0; centre < static_cast<int>(neighbours_.size()); ++centre) {
    const auto& n = neighbours_[centre];
    for (std::size_t a = 0; a < n.size(); ++a)
      for (std::size_t b = a + 1; b < n.size(); ++b)
        for (std::size_t c = b + 1; c < n.size(); ++c) result.push_back({centre, n[a], n[b], n[c]});
  }
  return result;
}

std::vector<std::pair<int, int>> BondGraph::pairs_within_two_bonds() const {
  std::vector<std::pair<int, int>> pairs;
  for (int i = 0; i < static_cast<int>(neighbours_.size()); ++i) {
    for (int j : neighbours_[i]) {
      if (i < j) pairs.emplace_back(i, j);
      for (int k : neighbours_[j])
        if (i < k) pairs.emplace_back(i, k);
    }
  }
  std::sort(pairs.begin(), pairs.end());
  pairs.erase(std::unique(pairs.begin(), pairs.end()), pairs.end());
  return pairs;
}

}  // namespace molearn
