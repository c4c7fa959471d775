// The GUI API's request parsing: every field checked, bounds enforced, and
// messages that name the field (docs/gui-api.md).
#include <gtest/gtest.h>

#include "molearn/gui/api_requests.hpp"

using molearn::gui::ApiLimits;
using molearn::gui::BadRequest;
using molearn::gui::parse_body;
using molearn::gui::parse_map_request;
using molearn::gui::parse_path_request;
using molearn::gui::parse_points_request;
using molearn::gui::Waypoint;
using nlohmann::json;

namespace {

const std::vector<std::string> kLandscapes{"error", "drift", "dope"};

std::string message_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const BadRequest& e) {
    return e.what();
  }
  return "(no error)";
}

}  // namespace

TEST(ApiRequests, BodyMustBeAJsonObject) {
  EXPECT_NE(message_of([] { parse_body("{oops"); }).find("not valid JSON"), std::string::npos);
  EXPECT_NE(message_of([] { parse_body("[1, 2]"); }).find("JSON object"), std::string::npos);
  EXPECT_NE(message_of([] { parse_body("{\"a\": NaN}"); }).find("not valid JSON"), std::string::npos);
  EXPECT_EQ(parse_body("{\"a\": 1}")["a"], 1);
}

TEST(ApiRequests, MapRequestBoundsTheGrid) {
  const ApiLimits limits;
  const auto r = parse_map_request(json{{"landscape", "drift"}, {"grid", 24}}, limits, kLandscapes);
  EXPECT_EQ(r.landscape, "drift");
  EXPECT_EQ(r.grid, 24u);
  EXPECT_EQ(parse_map_request(json{{"landscape", "error"}, {"grid", 24.0}}, limits, kLandscapes).grid, 24u);
  for (const json& grid : {json(1), json(limits.max_grid + 1), json(2.5), json(-4), json("8"), json(1e300)})
    EXPECT_NE(message_of([&] {
                parse_map_request(json{{"landscape", "error"}, {"grid", grid}}, limits, kLandscapes);
              }).find("'grid'"),
              std::string::npos)
        << grid.dump();
  EXPECT_NE(message_of([&] {
              parse_map_request(json{{"landscape", "energy"}, {"grid", 8}}, limits, kLandscapes);
            }).find("expected one of: error, drift, dope"),
            std::string::npos);
  EXPECT_NE(message_of([&] {
              parse_map_request(json{{"grid", 8}}, limits, kLandscapes);
            }).find("'landscape' is missing"),
            std::string::npos);
}

TEST(ApiRequests, PathRequestReadsEveryKindOfWaypoint) {
  const ApiLimits limits;
  const json body = {{"waypoints", json::array({json{{"plane", {0.5, -1}}}, json{{"latent", {1, 2, 3}}},
                                                json{{"frame", 7}}, json{{"pdb", "ATOM..."}}})},
                     {"steps", 12},
                     {"landscape", "dope"},
                     {"grid", 16}};
  const auto r = parse_path_request(body, limits, 3, kLandscapes);
  ASSERT_EQ(r.waypoints.size(), 4u);
  EXPECT_TRUE(r.waypoints[0].point.on_plane);
  EXPECT_EQ(r.waypoints[0].point.values, (std::vector<double>{0.5, -1}));
  EXPECT_FALSE(r.waypoints[1].point.on_plane);
  EXPECT_EQ(r.waypoints[1].point.values.size(), 3u);
  EXPECT_EQ(r.waypoints[2].kind, Waypoint::Kind::Frame);
  EXPECT_EQ(r.waypoints[2].frame, 7u);
  EXPECT_EQ(r.waypoints[3].kind, Waypoint::Kind::Pdb);
  EXPECT_EQ(r.steps, 12u);
  EXPECT_EQ(r.landscape, "dope");
  EXPECT_EQ(r.grid, 16u);
  // Straight is the default and needs no grid.
  const auto s =
      parse_path_request(json{{"waypoints", {json{{"frame", 0}}, json{{"frame", 1}}}}}, limits, 2, kLandscapes);
  EXPECT_EQ(s.landscape, "straight");
  EXPECT_EQ(s.steps, 10u);
}

TEST(ApiRequests, PathRequestRefusesWhatItCannotServe) {
  const ApiLimits limits;
  auto msg = [&](json body) { return message_of([&] { parse_path_request(body, limits, 3, kLandscapes); }); };
  const json two = {json{{"frame", 0}}, json{{"frame", 1}}};
  EXPECT_NE(msg({{"waypoints", {json{{"frame", 0}}}}}).find("2 to 16"), std::string::npos);
  EXPECT_NE(msg({{"waypoints", two}, {"steps", 1}}).find("'steps'"), std::string::npos);
  EXPECT_NE(msg({{"waypoints", two}, {"steps", 100000}}).find("expected 2 to 200"), std::string::npos);
  EXPECT_NE(msg({{"waypoints", two}, {"landscape", "dope"}}).find("'grid' is missing"), std::string::npos);
  EXPECT_NE(msg({{"waypoints", {json{{"plane", {1, 2, 3}}}, json{{"frame", 1}}}}}).find("waypoints[0].plane"),
            std::string::npos);
  EXPECT_NE(msg({{"waypoints", {json{{"latent", {1, 2}}}, json{{"frame", 1}}}}}).find("waypoints[0].latent"),
            std::string::npos);
  EXPECT_NE(msg({{"waypoints", {json{{"frame", -1}}, json{{"frame", 1}}}}}).find("waypoints[0].frame"),
            std::string::npos);
  EXPECT_NE(msg({{"waypoints", {json{{"frame", 0}, {"pdb", "x"}}, json{{"frame", 1}}}}}).find("one of"),
            std::string::npos);
  EXPECT_NE(msg({{"waypoints", {json{{"pdb", ""}}, json{{"frame", 1}}}}}).find("waypoints[0].pdb"), std::string::npos);
  json many = json::array();
  for (int k = 0; k < 17; ++k) many.push_back(json{{"frame", k}});
  EXPECT_NE(msg({{"waypoints", many}}).find("2 to 16"), std::string::npos);
}

TEST(ApiRequests, PointsRequestChecksCountSizeAndFormat) {
  const auto r = parse_points_request(json{{"points", {{1, 2}, {3, 4}}}}, 4, 2, {"pdb", "json"});
  EXPECT_EQ(r.points.size(), 2u);
  EXPECT_EQ(r.format, "pdb");
  EXPECT_EQ(parse_points_request(json{{"points", {{1, 2}}}, {"format", "json"}}, 4, 2, {"pdb", "json"}).format, "json");
  auto msg = [](json body) { return message_of([&] { parse_points_request(body, 4, 3, {"pdb", "dcd"}); }); };
  EXPECT_NE(msg({{"points", json::array()}}).find("1 to 4"), std::string::npos);
  EXPECT_NE(msg({{"points", {{1, 2}, {1, 2}, {1, 2}, {1, 2}, {1, 2}}}}).find("1 to 4"), std::string::npos);
  EXPECT_NE(msg({{"points", {{1, 2, 3, 4}}}}).find("points[0]"), std::string::npos);
  EXPECT_NE(msg({{"points", {{1, "a"}}}}).find("points[0]"), std::string::npos);
  EXPECT_NE(msg({{"points", {{1, 2}}}, {"format", "xyz"}}).find("pdb, dcd"), std::string::npos);
}
