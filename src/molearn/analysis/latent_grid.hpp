// The regular grid of latent points that `molearn scan` decodes: the region
// of the encoded data plus padding (Python molearn's setup_grid), or bounds
// the user gives. A latent space of more than two dimensions is scanned on a
// 2-D plane through the mean of the encoded data. No torch.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace molearn {

// More points than this is almost certainly a typo (10^6 MurD decodings
// take hours) and would hold gigabytes of landscapes: refuse it.
inline constexpr std::size_t kMaxGridPoints = 250000;

struct GridBounds {
  double x0 = 0, x1 = 0, y0 = 0, y1 = 0;
};

// The 2-D plane of a latent space that a grid lies on: latent dimensions
// `dims` vary, every other one stays at `origin` (the mean of the encoded
// data). For a 2-D latent space with dims {0, 1} this is the whole space.
struct LatentPlane {
  std::size_t dims[2] = {0, 1};
  std::vector<double> origin;  // latent_dim values

  std::size_t latent_dim() const { return origin.size(); }
  bool is_whole_space() const { return origin.size() == 2 && dims[0] == 0 && dims[1] == 1; }
  // The latent point of plane coordinates (x, y).
  std::vector<double> lift(double x, double y) const;
  // Plane coordinates of a latent point (its components along dims).
  std::pair<double, double> project(const std::vector<double>& point) const;
};

struct LatentGrid {
  std::vector<double> x, y;  // centres of the columns and rows, increasing
  GridBounds bounds;         // x.front(), x.back(), y.front(), y.back()
  LatentPlane plane;

  std::size_t nx() const { return x.size(); }
  std::size_t ny() const { return y.size(); }
  std::size_t size() const { return x.size() * y.size(); }
  // Point k in row-major order: k = j * nx + i is (x[i], y[j]), as the rows
  // of the NPY landscapes.
  std::vector<double> point(std::size_t k) const;
};

// Comma-separated finite numbers ("1.5,-2"); `what` names the option in the
// InputError thrown for anything else.
std::vector<double> parse_numbers(const std::string& text, const std::string& what);

// Whether v can be a latent coordinate: models decode latent points as
// floats, so a larger value (finite in double) would become infinity.
bool fits_latent_float(double v);

// "64" (64 x 64) or "64,48" (nx, ny). Throws InputError unless each side is
// at least 2 and the total at most kMaxGridPoints.
std::pair<std::size_t, std::size_t> parse_grid_size(const std::string& text);

// "x0,x1,y0,y1": finite and within a float's range, x0 < x1 and y0 < y1.
// Throws InputError.
GridBounds parse_bounds(const std::string& text);

// "i,j": two different latent dimensions below latent_dim. Throws InputError.
std::pair<std::size_t, std::size_t> parse_plane(const std::string& text, std::size_t latent_dim);

// The plane through the mean of `encoded` (latent points, latent_dim values
// each) along dimensions i, j. Throws InputError for no points, wrong sizes
// or non-finite values.
LatentPlane plane_through_mean(const std::vector<std::vector<double>>& encoded, std::size_t i, std::size_t j);

// The bounding box of the points projected on `plane`, widened on each side
// by `padding` times its width (height), as molearn's setup_grid. A side of
// zero width (all points at one value) is widened by `padding` times
// max(1, |value|) instead, so the grid never collapses to a line.
GridBounds padded_bounds(const std::vector<std::vector<double>>& encoded, const LatentPlane& plane, double padding);

// nx x ny points spaced evenly from x0 to x1 and y0 to y1, ends included
// (numpy.linspace). Validates sizes and bounds as the parsers do.
LatentGrid make_latent_grid(std::size_t nx, std::size_t ny, const GridBounds& bounds, LatentPlane plane);

// The grid a scan uses: on the plane along `dims` through the mean of
// `encoded`, over `bounds` when given, else over the encoded points plus
// `padding`.
LatentGrid grid_over_points(const std::vector<std::vector<double>>& encoded, std::size_t nx, std::size_t ny,
                            const std::optional<GridBounds>& bounds, double padding,
                            std::pair<std::size_t, std::size_t> dims);

// Index of the axis value nearest to v (molearn's get_point_index).
std::size_t nearest_index(const std::vector<double>& axis, double v);

}  // namespace molearn
