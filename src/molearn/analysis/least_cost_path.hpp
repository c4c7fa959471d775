// Least-cost paths over a 2-D landscape (A*, as Python molearn's path.py),
// and resampling of latent polylines to evenly spaced points. No torch.
//
// Cost model (molearn's path.py): the landscape is shifted so that its
// lowest value is 0, and moving onto a cell costs that cell's shifted value,
// whatever the direction (8 neighbours, diagonals included); the start cell
// is free. Two differences from molearn, both deliberate:
//  - molearn's heuristic (squared distance in cells) overestimates, so its
//    A* can return a path that is not least-cost; ours is admissible, so the
//    path returned is a least-cost one.
//  - among paths of equal cost (e.g. across a flat region of zeros) the
//    shortest in grid units is taken, so flat regions are crossed straight
//    rather than along an arbitrary detour.
// Cells whose value is not finite (NaN, inf) cannot be entered.
#pragma once

#include <cstddef>
#include <vector>

#include "molearn/analysis/latent_grid.hpp"

namespace molearn {

struct GridCell {
  std::size_t i = 0;  // column (x index)
  std::size_t j = 0;  // row (y index)
  bool operator==(const GridCell&) const = default;
};

struct LeastCostPath {
  std::vector<GridCell> cells;  // start ... goal, neighbours in turn (8-connectivity)
  double cost = 0;              // sum of the shifted values of the cells entered
};

// `landscape` is row-major [ny][nx]: cell (i, j) is landscape[j * nx + i].
// Throws InputError when sizes disagree, a cell is outside the grid, start
// or goal is not finite, or the goal cannot be reached.
LeastCostPath least_cost_path(const std::vector<double>& landscape, std::size_t nx, std::size_t ny, GridCell start,
                              GridCell goal);

// `n` points (n >= 2) evenly spaced by arc length along the polyline through
// `points` (all of one dimension), first and last exactly the polyline's
// ends. A polyline of zero length gives n copies of its first point. Throws
// InputError for no points, mixed dimensions, non-finite values or n < 2.
std::vector<std::vector<double>> resample_polyline(const std::vector<std::vector<double>>& points, std::size_t n);

// The least-cost latent polyline through `waypoints` (latent points, in
// order) over `costs` (row-major [ny][nx] on `grid`; lower is better): for
// each leg, A* between the cells nearest to its ends, the leg's ends
// exactly, and the centres of the cells in between lifted onto the plane.
// Off-plane components (latent spaces above 2-D) go linearly from one end of
// the leg to the other. Throws InputError when a waypoint lies outside the
// grid's bounds (more than half a cell) or no path exists.
std::vector<std::vector<double>> least_cost_polyline(const std::vector<std::vector<double>>& waypoints,
                                                     const LatentGrid& grid, const std::vector<double>& costs);

}  // namespace molearn
