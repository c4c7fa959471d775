#include "molearn/analysis/latent_grid.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>
#include <sstream>

#include "molearn/core/error.hpp"

namespace molearn {

std::vector<double> parse_numbers(const std::string& text, const std::string& what) {
  std::vector<double> values;
  std::size_t start = 0;
  while (start <= text.size()) {
    const std::size_t comma = std::min(text.find(',', start), text.size());
    std::string item = text.substr(start, comma - start);
    item.erase(0, item.find_first_not_of(' '));
    item.erase(item.find_last_not_of(' ') + 1);
    double value = 0;
    const auto [end, ec] = std::from_chars(item.data(), item.data() + item.size(), value);
    if (item.empty() || ec != std::errc() || end != item.data() + item.size() || !std::isfinite(value))
      throw InputError(what + " '" + text + "': '" + item + "' is not a finite number");
    values.push_back(value);
    start = comma + 1;
  }
  return values;
}

namespace {

std::size_t as_count(double value, const std::string& text, const std::string& what) {
  if (value < 0 || value != std::floor(value) || value > 1e9)
    throw InputError(what + " '" + text + "': expected whole numbers");
  return static_cast<std::size_t>(value);
}

void check_grid_size(std::size_t nx, std::size_t ny) {
  if (nx < 2 || ny < 2)
    throw InputError("--grid " + std::to_string(nx) + "x" + std::to_string(ny) + ": each side needs at least 2 points");
  if (nx * ny > kMaxGridPoints)
    throw InputError("--grid " + std::to_string(nx) + "x" + std::to_string(ny) + " is " + std::to_string(nx * ny) +
                     " points; at most " + std::to_string(kMaxGridPoints) + " are allowed (e.g. 500x500)");
}

void check_bounds(const GridBounds& b) {
  std::ostringstream out;
  out.precision(6);
  out << b.x0 << "," << b.x1 << "," << b.y0 << "," << b.y1;
  const std::string text = out.str();
  if (!std::isfinite(b.x0) || !std::isfinite(b.x1) || !std::isfinite(b.y0) || !std::isfinite(b.y1))
    throw InputError("grid bounds " + text + " are not all finite numbers");
  for (double v : {b.x0, b.x1, b.y0, b.y1})
    if (!fits_latent_float(v)) throw InputError("grid bounds " + text + ": beyond a float's range (+-3.4e38)");
  if (!(b.x0 < b.x1) || !(b.y0 < b.y1)) throw InputError("grid bounds " + text + ": expected x0 < x1 and y0 < y1");
}

std::vector<double> linspace(double a, double b, std::size_t n) {
  std::vector<double> v(n);
  const double step = (b - a) / static_cast<double>(n - 1);
  for (std::size_t i = 0; i < n; ++i) v[i] = a + step * static_cast<double>(i);
  v.back() = b;  // exact end, as numpy.linspace
  return v;
}

void check_point(const std::vector<double>& p, std::size_t dim, std::size_t index) {
  if (p.size() != dim)
    throw InputError("encoded point " + std::to_string(index) + " has " + std::to_string(p.size()) +
                     " values, expected " + std::to_string(dim));
  for (double v : p)
    if (!std::isfinite(v))
      throw InputError("encoded point " + std::to_string(index) + " is not finite (the model produced NaN)");
}

}  // namespace

std::vector<double> LatentPlane::lift(double x, double y) const {
  std::vector<double> p = origin;
  p[dims[0]] = x;
  p[dims[1]] = y;
  return p;
}

std::pair<double, double> LatentPlane::project(const std::vector<double>& point) const {
  return {point.at(dims[0]), point.at(dims[1])};
}

std::vector<double> LatentGrid::point(std::size_t k) const { return plane.lift(x[k % nx()], y[k / nx()]); }

std::pair<std::size_t, std::size_t> parse_grid_size(const std::string& text) {
  const auto values = parse_numbers(text, "--grid");
  if (values.size() != 1 && values.size() != 2)
    throw InputError("--grid '" + text + "': expected N (N x N points) or NX,NY");
  const std::size_t nx = as_count(values[0], text, "--grid");
  const std::size_t ny = values.size() == 2 ? as_count(values[1], text, "--grid") : nx;
  check_grid_size(nx, ny);
  return {nx, ny};
}

bool fits_latent_float(double v) { return std::abs(v) <= std::numeric_limits<float>::max(); }

GridBounds parse_bounds(const std::string& text) {
  std::vector<double> v;
  try {
    v = parse_numbers(text, "--bounds");
  } catch (const InputError& e) {
    throw InputError(std::string(e.what()) + " (expected x0,x1,y0,y1)");
  }
  if (v.size() != 4) throw InputError("--bounds '" + text + "': expected four numbers x0,x1,y0,y1");
  const GridBounds b{v[0], v[1], v[2], v[3]};
  check_bounds(b);
  return b;
}

std::pair<std::size_t, std::size_t> parse_plane(const std::string& text, std::size_t latent_dim) {
  const auto values = parse_numbers(text, "--plane");
  if (values.size() != 2) throw InputError("--plane '" + text + "': expected two latent dimensions i,j");
  const std::size_t i = as_count(values[0], text, "--plane"), j = as_count(values[1], text, "--plane");
  if (i == j || i >= latent_dim || j >= latent_dim)
    throw InputError("--plane '" + text + "': expected two different dimensions from 0 to " +
                     std::to_string(latent_dim - 1) + " (the model's latent space has " + std::to_string(latent_dim) +
                     ")");
  return {i, j};
}

LatentPlane plane_through_mean(const std::vector<std::vector<double>>& encoded, std::size_t i, std::size_t j) {
  if (encoded.empty()) throw InputError("no encoded points to place the scan plane on");
  const std::size_t dim = encoded.front().size();
  if (i == j || i >= dim || j >= dim) throw InputError("plane dimensions out of range of the latent space");
  LatentPlane plane;
  plane.dims[0] = i;
  plane.dims[1] = j;
  plane.origin.assign(dim, 0.0);
  for (std::size_t p = 0; p < encoded.size(); ++p) {
    check_point(encoded[p], dim, p);
    for (std::size_t k = 0; k < dim; ++k) plane.origin[k] += encoded[p][k];
  }
  for (double& v : plane.origin) v /= static_cast<double>(encoded.size());
  return plane;
}

GridBounds padded_bounds(const std::vector<std::vector<double>>& encoded, const LatentPlane& plane, double padding) {
  if (!std::isfinite(padding) || padding < 0)
    throw InputError("--padding " + std::to_string(padding) + ": expected a finite number >= 0");
  if (encoded.empty()) throw InputError("no encoded points to set the grid bounds from");
  constexpr double inf = std::numeric_limits<double>::infinity();
  GridBounds b{inf, -inf, inf, -inf};
  for (std::size_t p = 0; p < encoded.size(); ++p) {
    check_point(encoded[p], plane.latent_dim(), p);
    const auto [x, y] = plane.project(encoded[p]);
    b.x0 = std::min(b.x0, x), b.x1 = std::max(b.x1, x);
    b.y0 = std::min(b.y0, y), b.y1 = std::max(b.y1, y);
  }
  auto widen = [padding](double& lo, double& hi) {
    double pad = (hi - lo) * padding;
    if (!(hi > lo)) pad = std::max(padding, 1e-3) * std::max(1.0, std::abs(lo));
    lo -= pad;
    hi += pad;
  };
  widen(b.x0, b.x1);
  widen(b.y0, b.y1);
  return b;
}

LatentGrid make_latent_grid(std::size_t nx, std::size_t ny, const GridBounds& bounds, LatentPlane plane) {
  check_grid_size(nx, ny);
  check_bounds(bounds);
  if (plane.latent_dim() < 2 || plane.dims[0] == plane.dims[1] || plane.dims[0] >= plane.latent_dim() ||
      plane.dims[1] >= plane.latent_dim())
    throw InputError("the scan plane does not fit the latent space");
  LatentGrid grid;
  grid.x = linspace(bounds.x0, bounds.x1, nx);
  grid.y = linspace(bounds.y0, bounds.y1, ny);
  grid.bounds = bounds;
  grid.plane = std::move(plane);
  return grid;
}

LatentGrid grid_over_points(const std::vector<std::vector<double>>& encoded, std::size_t nx, std::size_t ny,
                            const std::optional<GridBounds>& bounds, double padding,
                            std::pair<std::size_t, std::size_t> dims) {
  LatentPlane plane = plane_through_mean(encoded, dims.first, dims.second);
  const GridBounds b = bounds ? *bounds : padded_bounds(encoded, plane, padding);
  return make_latent_grid(nx, ny, b, std::move(plane));
}

std::size_t nearest_index(const std::vector<double>& axis, double v) {
  std::size_t best = 0;
  for (std::size_t i = 1; i < axis.size(); ++i)
    if (std::abs(axis[i] - v) < std::abs(axis[best] - v)) best = i;
  return best;
}

}  // namespace molearn
