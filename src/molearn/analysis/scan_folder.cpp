#include "molearn/analysis/scan_folder.hpp"

#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "molearn/analysis/npy_float64.hpp"
#include "molearn/core/error.hpp"

namespace molearn {

namespace fs = std::filesystem;
using nlohmann::json;

const ScanLandscape* ScanData::find(const std::string& name) const {
  for (const auto& l : landscapes)
    if (l.name == name) return &l;
  return nullptr;
}

namespace {

// A whole number of scan.json from `low` to `high`. nlohmann's get<>()
// converts any number, and a float beyond the integer's range (1e30, -1.5
// for an unsigned) is undefined behaviour: kind and range are checked first.
std::int64_t whole_number(const json& value, const std::string& field, std::int64_t low, std::int64_t high,
                          const std::string& path) {
  bool ok = false;
  std::int64_t n = 0;
  if (value.is_number_unsigned()) {
    ok = value.get<std::uint64_t>() <= static_cast<std::uint64_t>(high);
    if (ok) n = static_cast<std::int64_t>(value.get<std::uint64_t>());
  } else if (value.is_number_integer()) {
    ok = true;
    n = value.get<std::int64_t>();
  } else if (value.is_number_float()) {
    const double d = value.get<double>();
    ok = std::floor(d) == d && d >= static_cast<double>(low) && d <= static_cast<double>(high);
    if (ok) n = static_cast<std::int64_t>(d);
  }
  if (!ok || n < low || n > high)
    throw FormatError(path + ": '" + field + "' must be a whole number from " + std::to_string(low) + " to " +
                      std::to_string(high));
  return n;
}

// "plane": null (the whole 2-D space) or {"dims": [i, j], "origin": [...]}.
LatentPlane plane_of(const json& j, std::int64_t latent_dim, const std::string& path) {
  LatentPlane plane;
  if (j.is_null()) {
    plane.origin.assign(2, 0.0);
  } else {
    plane.dims[0] = static_cast<std::size_t>(whole_number(j.at("dims").at(0), "plane.dims", 0, latent_dim - 1, path));
    plane.dims[1] = static_cast<std::size_t>(whole_number(j.at("dims").at(1), "plane.dims", 0, latent_dim - 1, path));
    plane.origin = j.at("origin").get<std::vector<double>>();
  }
  if (static_cast<std::int64_t>(plane.origin.size()) != latent_dim || plane.dims[0] >= plane.origin.size() ||
      plane.dims[1] >= plane.origin.size() || plane.dims[0] == plane.dims[1])
    throw FormatError(path + ": 'plane' does not fit 'latent_dim' " + std::to_string(latent_dim));
  return plane;
}

// The encoded frames of one split: a list of [x, y] points on the plane
// (none when the split is missing). Each point is checked (one of fewer than
// two values would be read beyond its end), and read in place (no copy: that
// recurses, see read_scan).
std::vector<std::pair<double, double>> encoded_points(const json& encoded, const char* split, const std::string& path) {
  if (!encoded.is_object()) throw FormatError(path + ": 'encoded' must be an object of train and valid points");
  std::vector<std::pair<double, double>> points;
  if (!encoded.contains(split)) return points;
  const json& list = encoded[split];
  if (!list.is_array()) throw FormatError(path + ": 'encoded." + split + "' must be a list of [x, y] points");
  for (const json& p : list) {
    if (!p.is_array() || p.size() != 2 || !p[0].is_number() || !p[1].is_number())
      throw FormatError(path + ": 'encoded." + split + "' point " + std::to_string(points.size()) +
                        " is not two numbers [x, y]");
    points.emplace_back(p[0].get<double>(), p[1].get<double>());
  }
  return points;
}

}  // namespace

ScanData read_scan(const std::string& folder) {
  const std::string path = (fs::path(folder) / "scan.json").string();
  std::ifstream in(path);
  if (!in) throw InputError(path + ": not found; expected the folder written by 'molearn scan -o FOLDER'");
  ScanData scan;
  scan.folder = folder;
  try {
    const json j = json::parse(in);
    if (j.value("command", "") != "scan") throw FormatError(path + ": not written by 'molearn scan'");
    scan.checkpoint = j.value("checkpoint", "");
    scan.latent_dim = j.contains("latent_dim") ? whole_number(j["latent_dim"], "latent_dim", 1, 1 << 30, path) : 2;
    scan.x = j.at("x").get<std::vector<double>>();
    scan.y = j.at("y").get<std::vector<double>>();
    const auto b = j.at("bounds").get<std::vector<double>>();
    if (b.size() != 4) throw FormatError(path + ": 'bounds' needs four numbers");
    // The plane is read in place and its text written from what was read:
    // copying or dump()ing the value recurses, and a list nested a million
    // deep would overflow the stack.
    static const json no_plane;
    const json& plane_value = j.contains("plane") ? j["plane"] : no_plane;
    try {
      LatentPlane plane = plane_of(plane_value, scan.latent_dim, path);
      scan.plane = plane_value.is_null()
                       ? "null"
                       : json{{"dims", {plane.dims[0], plane.dims[1]}}, {"origin", plane.origin}}.dump();
      scan.grid = make_latent_grid(scan.x.size(), scan.y.size(), GridBounds{b[0], b[1], b[2], b[3]}, std::move(plane));
    } catch (const FormatError&) {
      throw;
    } catch (const InputError& e) {
      throw FormatError(path + ": " + e.what());
    }
    scan.grid.x = scan.x;
    scan.grid.y = scan.y;
    for (const auto& [name, m] : j.at("metrics").items()) {
      const std::string file = (fs::path(folder) / m.at("file").get<std::string>()).string();
      const NpyFloat64 grid = read_npy_float64(file);
      if (grid.shape != std::vector<std::size_t>{scan.y.size(), scan.x.size()})
        throw FormatError(file + ": expected a float64 grid of shape [" + std::to_string(scan.y.size()) + ", " +
                          std::to_string(scan.x.size()) + "] ([len(y), len(x)] of scan.json)");
      scan.landscapes.push_back({name, m.value("unit", ""), grid.data});
    }
    scan.encoded_train = encoded_points(j.at("encoded"), "train", path);
    scan.encoded_valid = encoded_points(j.at("encoded"), "valid", path);
  } catch (const json::exception& e) {
    throw FormatError(path +
                      ": not a scan summary of 'molearn scan' (x, y, bounds, plane, metrics, encoded): " + e.what());
  }
  if (scan.landscapes.empty()) throw FormatError(path + ": lists no metrics");
  return scan;
}

bool same_file(const std::string& a, const std::string& b) {
  std::error_code ec;
  return fs::weakly_canonical(a, ec) == fs::weakly_canonical(b, ec);
}

void check_scan_matches(const ScanData& scan, const std::string& checkpoint_path, std::int64_t latent_dim) {
  const std::string json_path = (fs::path(scan.folder) / "scan.json").string();
  if (!same_file(scan.checkpoint, checkpoint_path))
    throw InputError(json_path + ": was scanned with checkpoint " + scan.checkpoint + ", not " + checkpoint_path +
                     " (scan this checkpoint, or leave out --scan)");
  if (scan.latent_dim != latent_dim)
    throw InputError(json_path + ": latent dimension " + std::to_string(scan.latent_dim) +
                     " does not match the checkpoint's " + std::to_string(latent_dim));
}

}  // namespace molearn
