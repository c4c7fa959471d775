// The requests of `molearn gui`'s JSON API (docs/gui-api.md), parsed and
// checked against the server's limits before any work starts. No torch, no
// HTTP: the server turns BadRequest into a 400 answer with its message.
#pragma once

#include <cstddef>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "molearn/core/error.hpp"

namespace molearn::gui {

// A request the API cannot serve as sent; the message names the field and
// what was expected.
class BadRequest : public InputError {
 public:
  using InputError::InputError;
};

// Bounds on what one request may ask for, so that no request can hold the
// server for hours or exhaust its memory.
struct ApiLimits {
  std::size_t max_grid = 96;              // points per side of a map
  std::size_t max_steps = 200;            // structures along a path or in an export
  std::size_t max_decode_points = 64;     // structures per /api/decode
  std::size_t max_waypoints = 16;         // ends and waypoints of a path
  std::size_t max_body_bytes = 8u << 20;  // request bodies (a PDB waypoint of a large protein fits)
  nlohmann::json to_json() const;
};

// A latent point as sent: two numbers on the map's plane, or a full latent
// vector (for a 2-D latent space the two are the same).
struct RequestPoint {
  bool on_plane = false;
  std::vector<double> values;
};

struct Waypoint {
  enum class Kind { Point, Frame, Pdb } kind = Kind::Point;
  RequestPoint point;     // Kind::Point
  std::size_t frame = 0;  // Kind::Frame: dataset frame index
  std::string pdb_text;   // Kind::Pdb: the text of a PDB file
};

struct PathRequest {
  std::vector<Waypoint> waypoints;
  std::size_t steps = 10;
  std::string landscape = "straight";
  std::size_t grid = 0;  // the map's grid when landscape is not straight
};

struct MapRequest {
  std::string landscape;
  std::size_t grid = 0;
};

struct PointsRequest {
  std::vector<RequestPoint> points;
  std::string format;  // "pdb", "json", "dcd" (what the endpoint allows)
};

// Parses a request body. Throws BadRequest for invalid JSON.
nlohmann::json parse_body(const std::string& body);

// Each throws BadRequest naming the field. `latent_dim` sizes full latent
// vectors; `landscapes` are the names the server knows.
MapRequest parse_map_request(const nlohmann::json& body, const ApiLimits& limits,
                             const std::vector<std::string>& landscapes);
PathRequest parse_path_request(const nlohmann::json& body, const ApiLimits& limits, std::size_t latent_dim,
                               const std::vector<std::string>& landscapes);
// `max_points` bounds the number of points; `formats` lists the formats
// allowed (the first is the default).
PointsRequest parse_points_request(const nlohmann::json& body, std::size_t max_points, std::size_t latent_dim,
                                   const std::vector<std::string>& formats);

}  // namespace molearn::gui
