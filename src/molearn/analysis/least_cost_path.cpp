#include "molearn/analysis/least_cost_path.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <queue>
#include <sstream>
#include <string>
#include <tuple>

#include "molearn/core/error.hpp"

namespace molearn {

namespace {

// Path cost compared lexicographically: landscape cost first, then length in
// grid units (the tie-break documented in the header).
struct Cost {
  double value = 0;
  double length = 0;
  bool operator<(const Cost& o) const { return std::tie(value, length) < std::tie(o.value, o.length); }
};

struct Open {
  Cost priority;  // cost so far + heuristic
  std::size_t cell;
  bool operator>(const Open& o) const { return o.priority < priority; }
};

std::string cell_name(GridCell c) { return "(" + std::to_string(c.i) + ", " + std::to_string(c.j) + ")"; }

std::vector<GridCell> trace_back(const std::vector<std::size_t>& came_from, std::size_t goal, std::size_t nx) {
  std::vector<GridCell> cells;
  for (std::size_t c = goal;; c = came_from[c]) {
    cells.push_back({c % nx, c / nx});
    if (came_from[c] == c) break;
  }
  std::reverse(cells.begin(), cells.end());
  return cells;
}

}  // namespace

LeastCostPath least_cost_path(const std::vector<double>& landscape, std::size_t nx, std::size_t ny, GridCell start,
                              GridCell goal) {
  if (nx == 0 || ny == 0 || landscape.size() != nx * ny)
    throw InputError("landscape has " + std::to_string(landscape.size()) + " values, expected " + std::to_string(nx) +
                     " x " + std::to_string(ny));
  for (GridCell c : {start, goal})
    if (c.i >= nx || c.j >= ny) throw InputError("grid cell " + cell_name(c) + " is outside the landscape");
  double lowest = std::numeric_limits<double>::infinity();
  for (double v : landscape)
    if (std::isfinite(v)) lowest = std::min(lowest, v);
  for (GridCell c : {start, goal})
    if (!std::isfinite(landscape[c.j * nx + c.i]))
      throw InputError("the landscape is not finite at grid cell " + cell_name(c) + ", an end of the path");

  const std::size_t n = nx * ny, s = start.j * nx + start.i, g = goal.j * nx + goal.i;
  constexpr double inf = std::numeric_limits<double>::infinity();
  std::vector<Cost> best(n, Cost{inf, inf});
  std::vector<std::size_t> came_from(n, n);
  std::vector<char> closed(n, 0);
  // Straight-line length to the goal: a lower bound of the remaining cost
  // (value >= 0, and no path is shorter than the straight line).
  auto heuristic = [&](std::size_t c) {
    const double di = double(c % nx) - double(goal.i), dj = double(c / nx) - double(goal.j);
    return Cost{0, std::sqrt(di * di + dj * dj)};
  };
  std::priority_queue<Open, std::vector<Open>, std::greater<>> open;
  best[s] = Cost{0, 0};
  came_from[s] = s;
  open.push({heuristic(s), s});
  while (!open.empty()) {
    const std::size_t c = open.top().cell;
    open.pop();
    if (closed[c]) continue;  // a stale queue entry
    closed[c] = 1;
    if (c == g) break;
    const long ci = long(c % nx), cj = long(c / nx);
    for (long dj = -1; dj <= 1; ++dj)
      for (long di = -1; di <= 1; ++di) {
        const long ni = ci + di, nj = cj + dj;
        if ((di == 0 && dj == 0) || ni < 0 || nj < 0 || ni >= long(nx) || nj >= long(ny)) continue;
        const std::size_t m = std::size_t(nj) * nx + std::size_t(ni);
        if (closed[m] || !std::isfinite(landscape[m])) continue;
        const Cost step{landscape[m] - lowest, (di != 0 && dj != 0) ? std::sqrt(2.0) : 1.0};
        const Cost candidate{best[c].value + step.value, best[c].length + step.length};
        if (!(candidate < best[m])) continue;
        best[m] = candidate;
        came_from[m] = c;
        const Cost h = heuristic(m);
        open.push({Cost{candidate.value + h.value, candidate.length + h.length}, m});
      }
  }
  if (!closed[g])
    throw InputError("no path from grid cell " + cell_name(start) + " to " + cell_name(goal) +
                     " avoids the cells where the landscape is not finite");
  return {trace_back(came_from, g, nx), best[g].value};
}

std::vector<std::vector<double>> resample_polyline(const std::vector<std::vector<double>>& points, std::size_t n) {
  if (points.empty()) throw InputError("cannot resample a path without points");
  if (n < 2) throw InputError("a resampled path needs at least 2 points (both ends)");
  const std::size_t dim = points.front().size();
  std::vector<double> along(points.size(), 0.0);  // cumulative arc length
  for (std::size_t p = 0; p < points.size(); ++p) {
    if (points[p].size() != dim) throw InputError("path points of different dimensions");
    for (double v : points[p])
      if (!std::isfinite(v)) throw InputError("path point " + std::to_string(p) + " is not finite");
    if (p == 0) continue;
    double d2 = 0;
    for (std::size_t k = 0; k < dim; ++k) d2 += (points[p][k] - points[p - 1][k]) * (points[p][k] - points[p - 1][k]);
    along[p] = along[p - 1] + std::sqrt(d2);
  }
  const double total = along.back();
  std::vector<std::vector<double>> out;
  out.reserve(n);
  std::size_t seg = 1;
  for (std::size_t k = 0; k < n; ++k) {
    if (total == 0 || k == 0) {
      out.push_back(points.front());
      continue;
    }
    if (k == n - 1) {
      out.push_back(points.back());
      continue;
    }
    const double target = total * double(k) / double(n - 1);
    while (seg + 1 < points.size() && along[seg] < target) ++seg;
    const double span = along[seg] - along[seg - 1];
    const double t = span > 0 ? std::clamp((target - along[seg - 1]) / span, 0.0, 1.0) : 0.0;
    std::vector<double> p(dim);
    for (std::size_t d = 0; d < dim; ++d) p[d] = points[seg - 1][d] + t * (points[seg][d] - points[seg - 1][d]);
    out.push_back(std::move(p));
  }
  return out;
}

namespace {

GridCell cell_of(const std::vector<double>& point, const LatentGrid& grid, std::size_t index) {
  const auto [x, y] = grid.plane.project(point);
  const double half_x = (grid.x.back() - grid.x.front()) / double(2 * (grid.nx() - 1));
  const double half_y = (grid.y.back() - grid.y.front()) / double(2 * (grid.ny() - 1));
  if (x < grid.bounds.x0 - half_x || x > grid.bounds.x1 + half_x || y < grid.bounds.y0 - half_y ||
      y > grid.bounds.y1 + half_y) {
    std::ostringstream text;
    text.precision(5);
    text << "waypoint " << index << " of the path (0 is its start) lies at (" << x << ", " << y
         << ") in the scan plane, outside the landscape's bounds [" << grid.bounds.x0 << ", " << grid.bounds.x1
         << "] x [" << grid.bounds.y0 << ", " << grid.bounds.y1 << "]: scan a larger region (--bounds, --padding)";
    throw InputError(text.str());
  }
  return {nearest_index(grid.x, x), nearest_index(grid.y, y)};
}

}  // namespace

std::vector<std::vector<double>> least_cost_polyline(const std::vector<std::vector<double>>& waypoints,
                                                     const LatentGrid& grid, const std::vector<double>& costs) {
  if (waypoints.size() < 2) throw InputError("a path needs at least two points");
  for (std::size_t w = 0; w < waypoints.size(); ++w)
    if (waypoints[w].size() != grid.plane.latent_dim())
      throw InputError("path point " + std::to_string(w) + " does not have the landscape's latent dimension");
  std::vector<std::vector<double>> polyline{waypoints.front()};
  for (std::size_t w = 1; w < waypoints.size(); ++w) {
    const auto& a = waypoints[w - 1];
    const auto& b = waypoints[w];
    // In order, so a message names the first waypoint outside the grid.
    const GridCell from = cell_of(a, grid, w - 1);
    const GridCell to = cell_of(b, grid, w);
    const auto cells = least_cost_path(costs, grid.nx(), grid.ny(), from, to).cells;
    // Interior cells only: the leg's own ends replace the first and last cell.
    for (std::size_t k = 1; k + 1 < cells.size(); ++k) {
      const double t = double(k) / double(cells.size() - 1);
      std::vector<double> p(a.size());
      for (std::size_t d = 0; d < p.size(); ++d) p[d] = a[d] + t * (b[d] - a[d]);
      p[grid.plane.dims[0]] = grid.x[cells[k].i];
      p[grid.plane.dims[1]] = grid.y[cells[k].j];
      polyline.push_back(std::move(p));
    }
    polyline.push_back(b);
  }
  return polyline;
}

}  // namespace molearn
