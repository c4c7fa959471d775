// Close pairs of atoms of one conformation, found with a cell list: atoms are
// binned into cubic cells at least `cutoff` wide, so every pair within the
// cutoff lies in the same or adjacent cells and the work grows with the
// number of atoms, never with its square. Used by the clash count and DOPE.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace molearn {

struct ClosePair {
  std::uint32_t i = 0, j = 0;  // atom indices, i < j
  float distance = 0;          // Å
};

class NeighbourGrid {
 public:
  // Bins the atoms of `xyz` (x0 y0 z0 x1 ... in Å). Atoms with a non-finite
  // coordinate are left out: they are close to nothing. The cells widen
  // beyond `cutoff` when the structure is so spread out (a decoded structure
  // gone wild) that cutoff-wide cells would outnumber the atoms several
  // times, which keeps memory bounded. `cutoff` must be > 0 (InputError).
  NeighbourGrid(std::span<const float> xyz, double cutoff);

  // Calls visit(i, j, r) once for every pair i < j with distance r <= cutoff.
  template <class Visit>
  void for_each_pair(Visit&& visit) const;

  // Every pair within the cutoff, in no particular order.
  std::vector<ClosePair> pairs() const;

 private:
  std::span<const float> xyz_;
  double cutoff2_ = 0;
  long dims_[3] = {0, 0, 0};
  std::vector<std::uint32_t> cell_start_;  // atoms of cell c: order_[cell_start_[c] .. cell_start_[c+1])
  std::vector<std::uint32_t> order_;       // atom indices sorted by cell
};

// Shorthand: the pairs of one conformation within `cutoff` Å.
std::vector<ClosePair> close_pairs(std::span<const float> xyz, double cutoff);

template <class Visit>
void NeighbourGrid::for_each_pair(Visit&& visit) const {
  auto test = [&](std::uint32_t a, std::uint32_t b) {
    const float* p = &xyz_[3 * std::size_t(a)];
    const float* q = &xyz_[3 * std::size_t(b)];
    const double dx = double(p[0]) - q[0], dy = double(p[1]) - q[1], dz = double(p[2]) - q[2];
    const double r2 = dx * dx + dy * dy + dz * dz;
    if (r2 <= cutoff2_) {
      if (a < b)
        visit(std::size_t(a), std::size_t(b), std::sqrt(r2));
      else
        visit(std::size_t(b), std::size_t(a), std::sqrt(r2));
    }
  };
  // Half of the 26 neighbouring cells (those "after" a cell), so that every
  // pair of cells is visited once.
  static constexpr int kForward[13][3] = {{1, 0, 0},  {-1, 1, 0}, {0, 1, 0},  {1, 1, 0}, {-1, -1, 1},
                                          {0, -1, 1}, {1, -1, 1}, {-1, 0, 1}, {0, 0, 1}, {1, 0, 1},
                                          {-1, 1, 1}, {0, 1, 1},  {1, 1, 1}};
  for (long z = 0; z < dims_[2]; ++z)
    for (long y = 0; y < dims_[1]; ++y)
      for (long x = 0; x < dims_[0]; ++x) {
        const std::size_t cell = std::size_t((z * dims_[1] + y) * dims_[0] + x);
        const std::uint32_t begin = cell_start_[cell], end = cell_start_[cell + 1];
        if (begin == end) continue;
        for (std::uint32_t s = begin; s < end; ++s)
          for (std::uint32_t t = s + 1; t < end; ++t) test(order_[s], order_[t]);
        for (const auto& d : kForward) {
          const long nx = x + d[0], ny = y + d[1], nz = z + d[2];
          if (nx < 0 || ny < 0 || nz < 0 || nx >= dims_[0] || ny >= dims_[1] || nz >= dims_[2]) continue;
          const std::size_t other = std::size_t((nz * dims_[1] + ny) * dims_[0] + nx);
          for (std::uint32_t s = begin; s < end; ++s)
            for (std::uint32_t t = cell_start_[other]; t < cell_start_[other + 1]; ++t) test(order_[s], order_[t]);
        }
      }
}

}  // namespace molearn
