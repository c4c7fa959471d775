#include "molearn/analysis/neighbour_grid.hpp"

#include <algorithm>
#include <limits>
#include <string>

#include "molearn/core/error.hpp"

namespace molearn {

NeighbourGrid::NeighbourGrid(std::span<const float> xyz, double cutoff) : xyz_(xyz), cutoff2_(cutoff * cutoff) {
  if (!(cutoff > 0) || !std::isfinite(cutoff))
    throw InputError("neighbour search: the cutoff must be a positive distance, not " + std::to_string(cutoff));
  if (xyz.size() / 3 > std::numeric_limits<std::uint32_t>::max()) throw InputError("neighbour search: too many atoms");
  const std::size_t n = xyz.size() / 3;
  auto finite = [&](std::size_t i) {
    return std::isfinite(xyz[3 * i]) && std::isfinite(xyz[3 * i + 1]) && std::isfinite(xyz[3 * i + 2]);
  };
  double lo[3], hi[3];
  std::fill(lo, lo + 3, std::numeric_limits<double>::max());
  std::fill(hi, hi + 3, std::numeric_limits<double>::lowest());
  std::size_t present = 0;
  for (std::size_t i = 0; i < n; ++i) {
    if (!finite(i)) continue;
    ++present;
    for (int k = 0; k < 3; ++k) {
      lo[k] = std::min(lo[k], double(xyz[3 * i + k]));
      hi[k] = std::max(hi[k], double(xyz[3 * i + k]));
    }
  }
  if (present == 0) {
    cell_start_ = {0, 0};
    return;  // no cells, dims_ stay 0: no pairs
  }
  // Cells at least `cutoff` wide; wider when there would be more than a few
  // cells per atom, so a spread-out structure cannot exhaust memory.
  const double max_cells = 8.0 * double(present) + 64.0;
  double width = cutoff, cells = 0;
  for (;;) {
    cells = 1;
    for (int k = 0; k < 3; ++k) cells *= std::floor((hi[k] - lo[k]) / width) + 1;
    if (cells <= max_cells) break;
    width *= std::max(1.01, std::cbrt(cells / max_cells));
  }
  for (int k = 0; k < 3; ++k) dims_[k] = static_cast<long>(std::floor((hi[k] - lo[k]) / width)) + 1;
  auto cell_of = [&](std::size_t i) {
    long c[3];
    for (int k = 0; k < 3; ++k)
      c[k] = std::min(dims_[k] - 1, static_cast<long>(std::floor((xyz[3 * i + k] - lo[k]) / width)));
    return std::size_t((c[2] * dims_[1] + c[1]) * dims_[0] + c[0]);
  };
  // Counting sort of the atoms by cell.
  const std::size_t cell_count = std::size_t(dims_[0] * dims_[1] * dims_[2]);
  cell_start_.assign(cell_count + 1, 0);
  std::vector<std::size_t> cell(n, cell_count);
  for (std::size_t i = 0; i < n; ++i)
    if (finite(i)) ++cell_start_[(cell[i] = cell_of(i)) + 1];
  for (std::size_t c = 0; c < cell_count; ++c) cell_start_[c + 1] += cell_start_[c];
  order_.resize(present);
  std::vector<std::uint32_t> next(cell_start_.begin(), cell_start_.end() - 1);
  for (std::size_t i = 0; i < n; ++i)
    if (cell[i] < cell_count) order_[next[cell[i]]++] = static_cast<std::uint32_t>(i);
}

std::vector<ClosePair> NeighbourGrid::pairs() const {
  std::vector<ClosePair> out;
  for_each_pair([&](std::size_t i, std::size_t j, double r) {
    out.push_back({static_cast<std::uint32_t>(i), static_cast<std::uint32_t>(j), static_cast<float>(r)});
  });
  return out;
}

std::vector<ClosePair> close_pairs(std::span<const float> xyz, double cutoff) {
  return NeighbourGrid(xyz, cutoff).pairs();
}

}  // namespace molearn
