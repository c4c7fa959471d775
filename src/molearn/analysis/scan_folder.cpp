#include "molearn/analysis/scan_folder.hpp"

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

LatentPlane plane_of(const json& j, std::int64_t latent_dim, const std::string& path) {
  LatentPlane plane;
  if (j.is_null()) {
    plane.origin.assign(2, 0.0);
  } else {
    plane.dims[0] = j.at("dims").at(0).get<std::size_t>();
    plane.dims[1] = j.at("dims").at(1).get<std::size_t>();
    plane.origin = j.at("origin").get<std::vector<double>>();
  }
  if (static_cast<std::int64_t>(plane.origin.size()) != latent_dim || plane.dims[0] >= plane.origin.size() ||
      plane.dims[1] >= plane.origin.size() || plane.dims[0] == plane.dims[1])
    throw FormatError(path + ": 'plane' does not fit 'latent_dim' " + std::to_string(latent_dim));
  return plane;
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
    scan.latent_dim = j.value("latent_dim", std::int64_t{2});
    scan.plane = j.contains("plane") ? j["plane"].dump() : "null";
    scan.x = j.at("x").get<std::vector<double>>();
    scan.y = j.at("y").get<std::vector<double>>();
    const auto b = j.at("bounds").get<std::vector<double>>();
    if (b.size() != 4) throw FormatError(path + ": 'bounds' needs four numbers");
    try {
      scan.grid = make_latent_grid(scan.x.size(), scan.y.size(), GridBounds{b[0], b[1], b[2], b[3]},
                                   plane_of(j.value("plane", json(nullptr)), scan.latent_dim, path));
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
    for (const auto& p : j.at("encoded").value("train", json::array())) scan.encoded_train.emplace_back(p[0], p[1]);
    for (const auto& p : j.at("encoded").value("valid", json::array())) scan.encoded_valid.emplace_back(p[0], p[1]);
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
