#include "molearn/gui/api_requests.hpp"

#include <algorithm>
#include <cmath>

namespace molearn::gui {

using nlohmann::json;

json ApiLimits::to_json() const {
  return {{"max_grid", max_grid},
          {"max_steps", max_steps},
          {"max_decode_points", max_decode_points},
          {"max_waypoints", max_waypoints},
          {"max_body_bytes", max_body_bytes}};
}

json parse_body(const std::string& body) {
  try {
    json j = json::parse(body);
    if (!j.is_object()) throw BadRequest("the request body must be a JSON object");
    return j;
  } catch (const json::exception& e) {  // syntax, and numbers beyond double (1e400)
    throw BadRequest(std::string("the request body is not valid JSON: ") + e.what());
  }
}

namespace {

// A value as a message shows it: scalars as written (strings cut short),
// lists and objects by kind only. Never dump() a value from a request into a
// message: dump() recurses (a body nested 60,000 deep overflows the stack)
// and throws on invalid UTF-8.
std::string describe(const json& value) {
  if (value.is_array()) return "a list of " + std::to_string(value.size());
  if (value.is_object()) return "an object";
  if (value.is_string()) {
    const std::string& text = value.get_ref<const std::string&>();
    const bool plain = text.size() <= 40 && std::all_of(text.begin(), text.end(), [](char c) {
                         return c >= 0x20 && c < 0x7f && c != '"' && c != '\\';
                       });
    return plain ? "\"" + text + "\"" : "a text of " + std::to_string(text.size()) + " bytes";
  }
  return value.dump();
}

// A whole number in [low, high] at `field`.
std::size_t bounded_count(const json& value, const std::string& field, std::size_t low, std::size_t high) {
  const std::string range = std::to_string(low) + " to " + std::to_string(high);
  if (!value.is_number_integer() &&
      !(value.is_number_float() && std::floor(value.get<double>()) == value.get<double>()))
    throw BadRequest("'" + field + "' must be a whole number from " + range);
  const double v = value.get<double>();
  if (!(v >= double(low) && v <= double(high)))
    throw BadRequest("'" + field + "' is " + describe(value) + "; expected " + range);
  return static_cast<std::size_t>(v);
}

std::string known_name(const json& value, const std::string& field, const std::vector<std::string>& names) {
  std::string list;
  for (const auto& n : names) list += (list.empty() ? "" : ", ") + n;
  if (!value.is_string() || std::find(names.begin(), names.end(), value.get<std::string>()) == names.end())
    throw BadRequest("'" + field + "' is " + describe(value) + "; expected one of: " + list);
  return value.get<std::string>();
}

const json& required(const json& body, const std::string& field) {
  if (!body.contains(field)) throw BadRequest("'" + field + "' is missing");
  return body[field];
}

RequestPoint parse_point(const json& value, const std::string& field, std::size_t latent_dim) {
  if (!value.is_array() || (value.size() != 2 && value.size() != latent_dim))
    throw BadRequest("'" + field + "' must be a list of 2 numbers (a point on the map)" +
                     (latent_dim == 2 ? std::string() : " or " + std::to_string(latent_dim) + " (a latent vector)"));
  RequestPoint p;
  p.on_plane = value.size() == 2;
  for (const auto& v : value) {
    if (!v.is_number() || !std::isfinite(v.get<double>()))
      throw BadRequest("'" + field + "' holds " + describe(v) + "; expected finite numbers");
    p.values.push_back(v.get<double>());
  }
  return p;
}

Waypoint parse_waypoint(const json& value, const std::string& field, std::size_t latent_dim) {
  if (!value.is_object() || value.size() != 1)
    throw BadRequest("'" + field + "' must be an object with one of: plane, latent, frame, pdb");
  Waypoint w;
  if (value.contains("plane") || value.contains("latent")) {
    const bool plane = value.contains("plane");
    const json& p = value.begin().value();
    if (plane && (!p.is_array() || p.size() != 2))
      throw BadRequest("'" + field + ".plane' must be 2 numbers (x, y on the map)");
    if (!plane && (!p.is_array() || p.size() != latent_dim))
      throw BadRequest("'" + field + ".latent' must be " + std::to_string(latent_dim) + " numbers");
    w.point = parse_point(p, field + "." + value.begin().key(), latent_dim);
    w.point.on_plane = plane;
  } else if (value.contains("frame")) {
    w.kind = Waypoint::Kind::Frame;
    w.frame = bounded_count(value["frame"], field + ".frame", 0, std::size_t(1) << 40);
  } else if (value.contains("pdb")) {
    w.kind = Waypoint::Kind::Pdb;
    if (!value["pdb"].is_string() || value["pdb"].get<std::string>().empty())
      throw BadRequest("'" + field + ".pdb' must be the text of a PDB file");
    w.pdb_text = value["pdb"].get<std::string>();
  } else {
    throw BadRequest("'" + field + "' must be an object with one of: plane, latent, frame, pdb");
  }
  return w;
}

}  // namespace

MapRequest parse_map_request(const json& body, const ApiLimits& limits, const std::vector<std::string>& landscapes) {
  MapRequest r;
  r.landscape = known_name(required(body, "landscape"), "landscape", landscapes);
  r.grid = bounded_count(required(body, "grid"), "grid", 2, limits.max_grid);
  return r;
}

PathRequest parse_path_request(const json& body, const ApiLimits& limits, std::size_t latent_dim,
                               const std::vector<std::string>& landscapes) {
  PathRequest r;
  const json& waypoints = required(body, "waypoints");
  if (!waypoints.is_array() || waypoints.size() < 2 || waypoints.size() > limits.max_waypoints)
    throw BadRequest("'waypoints' must be a list of 2 to " + std::to_string(limits.max_waypoints) +
                     " ends and waypoints");
  for (std::size_t k = 0; k < waypoints.size(); ++k)
    r.waypoints.push_back(parse_waypoint(waypoints[k], "waypoints[" + std::to_string(k) + "]", latent_dim));
  if (body.contains("steps")) r.steps = bounded_count(body["steps"], "steps", 2, limits.max_steps);
  if (body.contains("landscape")) {
    std::vector<std::string> modes{"straight"};
    modes.insert(modes.end(), landscapes.begin(), landscapes.end());
    r.landscape = known_name(body["landscape"], "landscape", modes);
  }
  if (r.landscape != "straight") r.grid = bounded_count(required(body, "grid"), "grid", 2, limits.max_grid);
  return r;
}

PointsRequest parse_points_request(const json& body, std::size_t max_points, std::size_t latent_dim,
                                   const std::vector<std::string>& formats) {
  PointsRequest r;
  const json& points = required(body, "points");
  if (!points.is_array() || points.empty() || points.size() > max_points)
    throw BadRequest("'points' must be a list of 1 to " + std::to_string(max_points) + " latent points");
  for (std::size_t k = 0; k < points.size(); ++k)
    r.points.push_back(parse_point(points[k], "points[" + std::to_string(k) + "]", latent_dim));
  r.format = formats.front();
  if (body.contains("format")) r.format = known_name(body["format"], "format", formats);
  return r;
}

}  // namespace molearn::gui
