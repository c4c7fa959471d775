// Scan grids: bounds from encoded points with padding (molearn's
// setup_grid), parsing of the options, planes of latent spaces above 2-D,
// and the float64 NPY files the landscapes are written to.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <filesystem>

#include "molearn/analysis/latent_grid.hpp"
#include "molearn/analysis/npy_float64.hpp"
#include "molearn/core/error.hpp"

using namespace molearn;

TEST(LatentGrid, PaddedBoundsAndCentresAsSetupGrid) {
  const std::vector<std::vector<double>> encoded{{0, 0}, {2, 1}, {1, 0.5}};
  const LatentPlane plane = plane_through_mean(encoded, 0, 1);
  EXPECT_TRUE(plane.is_whole_space());
  const GridBounds b = padded_bounds(encoded, plane, 0.1);
  EXPECT_NEAR(b.x0, -0.2, 1e-12);
  EXPECT_NEAR(b.x1, 2.2, 1e-12);
  EXPECT_NEAR(b.y0, -0.1, 1e-12);
  EXPECT_NEAR(b.y1, 1.1, 1e-12);
  const LatentGrid grid = make_latent_grid(3, 2, b, plane);
  ASSERT_EQ(grid.size(), 6u);
  EXPECT_NEAR(grid.x[1], 1.0, 1e-12);
  EXPECT_EQ(grid.x.back(), 2.2 + 0.0 * grid.x.back());
  // Row-major: point 4 is column 1 of row 1.
  const auto p = grid.point(4);
  EXPECT_NEAR(p[0], 1.0, 1e-12);
  EXPECT_NEAR(p[1], 1.1, 1e-12);
}

TEST(LatentGrid, DegenerateWidthStillGivesAnArea) {
  const std::vector<std::vector<double>> encoded{{1, 0}, {1, 2}};
  const auto plane = plane_through_mean(encoded, 0, 1);
  const GridBounds b = padded_bounds(encoded, plane, 0.1);
  EXPECT_LT(b.x0, 1.0);
  EXPECT_GT(b.x1, 1.0);
  EXPECT_NO_THROW(make_latent_grid(4, 4, b, plane));
}

TEST(LatentGrid, PlaneThroughMeanOfHigherDimensionalSpace) {
  const std::vector<std::vector<double>> encoded{{0, 1, 2, 3}, {2, 3, 4, 5}};
  const auto [i, j] = parse_plane("3,1", 4);
  const LatentPlane plane = plane_through_mean(encoded, i, j);
  EXPECT_FALSE(plane.is_whole_space());
  EXPECT_EQ(plane.origin, (std::vector<double>{1, 2, 3, 4}));
  EXPECT_EQ(plane.lift(-1, 7), (std::vector<double>{1, 7, 3, -1}));
  const GridBounds b = padded_bounds(encoded, plane, 0.0);
  EXPECT_EQ(b.x0, 3);  // dimension 3 along x
  EXPECT_EQ(b.x1, 5);
  EXPECT_EQ(b.y0, 1);  // dimension 1 along y
  EXPECT_EQ(b.y1, 3);
}

TEST(LatentGrid, ParsesAndRejectsOptions) {
  EXPECT_EQ(parse_grid_size("64"), (std::pair<std::size_t, std::size_t>{64, 64}));
  EXPECT_EQ(parse_grid_size("8,4"), (std::pair<std::size_t, std::size_t>{8, 4}));
  EXPECT_THROW(parse_grid_size("0"), InputError);
  EXPECT_THROW(parse_grid_size("1"), InputError);
  EXPECT_THROW(parse_grid_size("1000"), InputError);  // 10^6 points
  EXPECT_THROW(parse_grid_size("2.5"), InputError);
  EXPECT_THROW(parse_grid_size("-4"), InputError);
  const GridBounds b = parse_bounds("-1,1.5,-2,0");
  EXPECT_EQ(b.x1, 1.5);
  EXPECT_EQ(b.y0, -2);
  EXPECT_THROW(parse_bounds("nan,1,0,1"), InputError);
  EXPECT_THROW(parse_bounds("-1e300,1e300,0,1"), InputError);  // finite in double, not in the model's float
  EXPECT_THROW(parse_bounds("1,1,0,1"), InputError);           // x0 >= x1
  EXPECT_THROW(parse_bounds("0,1,2,-1"), InputError);          // y0 >= y1
  EXPECT_THROW(parse_bounds("0,1,2"), InputError);
  EXPECT_THROW(parse_plane("0,0", 4), InputError);
  EXPECT_THROW(parse_plane("0,4", 4), InputError);
  EXPECT_THROW(padded_bounds({{0, 0}}, plane_through_mean({{0, 0}}, 0, 1), std::nan("")), InputError);
  EXPECT_THROW(plane_through_mean({{0, std::nan("")}}, 0, 1), InputError);
}

TEST(LatentGrid, NearestIndex) {
  const std::vector<double> axis{-1, 0, 1, 2};
  EXPECT_EQ(nearest_index(axis, -5), 0u);
  EXPECT_EQ(nearest_index(axis, 0.4), 1u);
  EXPECT_EQ(nearest_index(axis, 0.6), 2u);
  EXPECT_EQ(nearest_index(axis, 9), 3u);
}

TEST(NpyFloat64, RoundTripKeepsShapeAndValues) {
  const auto path = (std::filesystem::temp_directory_path() / "molearn_test_landscape.npy").string();
  const std::vector<double> values{1.5, -2.25, std::nan(""), 1e300, 0, 7};
  write_npy_float64(path, values, {2, 3});
  const NpyFloat64 back = read_npy_float64(path);
  EXPECT_EQ(back.shape, (std::vector<std::size_t>{2, 3}));
  ASSERT_EQ(back.data.size(), 6u);
  for (std::size_t k = 0; k < 6; ++k)
    if (std::isnan(values[k]))
      EXPECT_TRUE(std::isnan(back.data[k]));
    else
      EXPECT_EQ(back.data[k], values[k]);
  std::remove(path.c_str());
  EXPECT_THROW(read_npy_float64(path), InputError);
  EXPECT_THROW(write_npy_float64(path, values, {4, 2}), OutputError);
}
