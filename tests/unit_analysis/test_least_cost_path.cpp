// A* over hand-made landscapes, and resampling of latent polylines.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "molearn/analysis/latent_grid.hpp"
#include "molearn/analysis/least_cost_path.hpp"
#include "molearn/core/error.hpp"

using namespace molearn;

namespace {

constexpr std::size_t kN = 5;

// 5 x 5 landscape of `floor` with column 2 set to `wall` in rows `wall_rows`.
std::vector<double> walled(double floor, double wall, std::size_t wall_rows) {
  std::vector<double> v(kN * kN, floor);
  for (std::size_t j = 0; j < wall_rows; ++j) v[j * kN + 2] = wall;
  return v;
}

}  // namespace

// The straight line from (0,2) to (4,2) crosses a wall in column 2 that has a
// gap only in row 4: the free path goes round through the gap, along the two
// diagonals that are the only way to reach it and leave it in two steps.
TEST(LeastCostPath, GoesRoundAWallThroughTheGap) {
  const auto path = least_cost_path(walled(0, 10, 4), kN, kN, {0, 2}, {4, 2});
  const std::vector<GridCell> expected{{0, 2}, {1, 3}, {2, 4}, {3, 3}, {4, 2}};
  EXPECT_EQ(path.cells, expected);
  EXPECT_DOUBLE_EQ(path.cost, 0.0);
}

// With no gap, crossing the wall once is cheapest; costs are shifted so the
// lowest value is 0 (floor 1 -> 0, wall 5 -> 4), as molearn's path.py does.
TEST(LeastCostPath, CrossesAFullWallOnceAtShiftedCost) {
  const auto path = least_cost_path(walled(1, 5, kN), kN, kN, {0, 2}, {4, 2});
  const std::vector<GridCell> expected{{0, 2}, {1, 2}, {2, 2}, {3, 2}, {4, 2}};
  EXPECT_EQ(path.cells, expected);
  EXPECT_DOUBLE_EQ(path.cost, 4.0);
}

// A detour through cheap cells beats the straight route through an
// expensive one: cost is the sum of the values entered, not the length.
TEST(LeastCostPath, PrefersLongerCheaperRoute) {
  const std::vector<double> land{0, 0, 0,   // row 0: free
                                 0, 9, 0,   // row 1: start (0,1), goal (2,1), a peak between
                                 1, 1, 1};  // row 2: a little dearer than row 0
  const auto path = least_cost_path(land, 3, 3, {0, 1}, {2, 1});
  const std::vector<GridCell> expected{{0, 1}, {1, 0}, {2, 1}};
  EXPECT_EQ(path.cells, expected);
  EXPECT_DOUBLE_EQ(path.cost, 0.0);
}

TEST(LeastCostPath, StartEqualsGoal) {
  const auto path = least_cost_path(walled(3, 7, 2), kN, kN, {2, 1}, {2, 1});
  ASSERT_EQ(path.cells.size(), 1u);
  EXPECT_EQ(path.cells[0], (GridCell{2, 1}));
  EXPECT_DOUBLE_EQ(path.cost, 0.0);
}

TEST(LeastCostPath, NonFiniteCellsAreImpassable) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const auto around = least_cost_path(walled(0, nan, 4), kN, kN, {0, 2}, {4, 2});
  EXPECT_EQ(around.cells[2], (GridCell{2, 4}));
  EXPECT_THROW(least_cost_path(walled(0, nan, kN), kN, kN, {0, 2}, {4, 2}), InputError);
  EXPECT_THROW(least_cost_path(walled(0, nan, kN), kN, kN, {2, 2}, {4, 2}), InputError);  // start not finite
}

TEST(LeastCostPath, RejectsBadInput) {
  EXPECT_THROW(least_cost_path(std::vector<double>(24, 0.0), kN, kN, {0, 0}, {1, 1}), InputError);
  EXPECT_THROW(least_cost_path(walled(0, 1, 1), kN, kN, {0, 0}, {5, 1}), InputError);
}

TEST(ResamplePolyline, EvenlySpacedByArcLength) {
  const auto out = resample_polyline({{0, 0}, {1, 0}, {1, 1}}, 5);
  const std::vector<std::vector<double>> expected{{0, 0}, {0.5, 0}, {1, 0}, {1, 0.5}, {1, 1}};
  ASSERT_EQ(out.size(), expected.size());
  for (std::size_t k = 0; k < out.size(); ++k)
    for (std::size_t d = 0; d < 2; ++d) EXPECT_NEAR(out[k][d], expected[k][d], 1e-12) << k;
}

TEST(ResamplePolyline, UnevenSegmentsAndExactEnds) {
  // Lengths 3 and 1: four intervals of 1.
  const auto out = resample_polyline({{0.1, 0, 0}, {3.1, 0, 0}, {3.1, 0, 1}}, 5);
  EXPECT_EQ(out.front(), (std::vector<double>{0.1, 0, 0}));
  EXPECT_EQ(out.back(), (std::vector<double>{3.1, 0, 1}));
  EXPECT_NEAR(out[1][0], 1.1, 1e-12);
  EXPECT_NEAR(out[3][0], 3.1, 1e-12);
  EXPECT_NEAR(out[3][2], 0.0, 1e-12);
}

TEST(ResamplePolyline, ZeroLengthAndErrors) {
  const auto same = resample_polyline({{2, 3}, {2, 3}}, 3);
  for (const auto& p : same) EXPECT_EQ(p, (std::vector<double>{2, 3}));
  EXPECT_THROW(resample_polyline({{0, 0}, {1, 1}}, 1), InputError);
  EXPECT_THROW(resample_polyline({}, 4), InputError);
  EXPECT_THROW(resample_polyline({{0, 0}, {1}}, 4), InputError);
  EXPECT_THROW(resample_polyline({{0, std::nan("")}, {1, 1}}, 4), InputError);
}

// In latent units: a 5 x 5 grid on [0, 4]^2 puts cell (i, j) at (i, j); the
// ends of the leg are kept exactly, the cells between become the centres.
TEST(LeastCostPolyline, LiftsCellsBetweenExactEnds) {
  const LatentGrid grid = make_latent_grid(kN, kN, GridBounds{0, 4, 0, 4}, plane_through_mean({{0, 0}, {4, 4}}, 0, 1));
  const auto line = least_cost_polyline({{0.1, 1.9}, {3.95, 2.2}}, grid, walled(0, 10, 4));
  const std::vector<std::vector<double>> expected{{0.1, 1.9}, {1, 3}, {2, 4}, {3, 3}, {3.95, 2.2}};
  EXPECT_EQ(line, expected);
  EXPECT_THROW(least_cost_polyline({{0, 2}, {5, 2}}, grid, walled(0, 10, 4)), InputError);  // outside
}

// Latent spaces above 2-D: the off-plane component goes linearly from one
// end to the other while the plane components follow the cells.
TEST(LeastCostPolyline, OffPlaneComponentsInterpolated) {
  const LatentGrid grid =
      make_latent_grid(kN, kN, GridBounds{0, 4, 0, 4}, plane_through_mean({{0, 0, 5}, {4, 4, 5}}, 0, 1));
  const auto line = least_cost_polyline({{0, 2, 0}, {4, 2, 8}}, grid, walled(0, 10, 4));
  ASSERT_EQ(line.size(), 5u);
  EXPECT_EQ(line[2], (std::vector<double>{2, 4, 4}));
  EXPECT_EQ(line[1], (std::vector<double>{1, 3, 2}));
}
