#include "molearn/gui/gui_session_torch.hpp"

#include <torch/torch.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <mutex>
#include <sstream>

#include "molearn/analysis/latent_grid.hpp"
#include "molearn/analysis/latent_path_torch.hpp"
#include "molearn/analysis/latent_scan_torch.hpp"
#include "molearn/analysis/least_cost_path.hpp"
#include "molearn/analysis/rmsd.hpp"
#include "molearn/analysis/scan_folder.hpp"
#include "molearn/data/dataset_file.hpp"
#include "molearn/io/trajectory_writer.hpp"
#include "molearn/train/checkpoint.hpp"
#include "molearn/train/precision.hpp"

namespace molearn::gui {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

// Points per locked batch of a map computation: small enough that a path
// asked meanwhile waits a second or two, not the whole map.
constexpr std::size_t kMapChunk = 64;

const std::map<std::string, std::string>& landscape_descriptions() {
  static const std::map<std::string, std::string> d{
      {"error", "RMSD between decode(z) and decode(encode(decode(z))): low where the model is self-consistent"},
      {"drift", "|encode(decode(z)) - z|: how far a decoded structure encodes from where it was decoded"},
      {"dope", "DOPE statistical potential of the decoded structure (lower is more native-like)"},
      {"rama", "fraction of residues in MolProbity's favoured Ramachandran regions (higher is better)"},
      {"energy", "force-field energy of the decoded structure (AMBER ff14SB, soft core)"},
      {"geometry", "RMS deviation of bond lengths from the force field's ideal values"}};
  return d;
}

std::string read_whole_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw OutputError(path + ": cannot read back a file the server wrote");
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void replace_all(std::string& text, const std::string& from, const std::string& to) {
  for (std::size_t at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size()))
    text.replace(at, from.size(), to);
}

json values_json(const std::vector<double>& values) {
  json a = json::array();
  for (double v : values) a.push_back(std::isfinite(v) ? json(v) : json(nullptr));
  return a;
}

}  // namespace

struct GuiSession::Impl {
  GuiSessionOptions options;
  std::string checkpoint_path;  // absolute
  LoadedCheckpoint loaded;
  std::string dataset_path;
  Dataset dataset;
  std::vector<std::vector<double>> encoded;
  LatentPlane plane;
  GridBounds bounds;
  std::vector<StructureMetric> metrics;  // every landscape computable now
  std::vector<std::string> names;        // those and any read from the scan folder
  std::vector<std::string> notes;
  // Without a scan folder the first map is computed while the user waits:
  // 16 x 16 decodes show it within seconds; a finer grid is one click away.
  std::size_t default_grid = 16;
  std::string default_landscape = "error";
  json info;  // the constant part of /api/info

  struct CachedMap {
    json doc;
    LatentGrid grid;
    std::vector<double> values;
    bool higher_is_better = false;
  };
  mutable std::mutex maps_mutex;
  std::map<std::pair<std::string, std::size_t>, CachedMap> maps;

  std::mutex model_mutex;  // the model and the metrics' caches: one batch at a time
  bool bf16 = false;       // --precision bf16: the model under bfloat16 autocast
  std::string temp_dir;
  std::atomic<unsigned> temp_counter{0};

  explicit Impl(const GuiSessionOptions& o) : options(o), loaded(load_checkpoint(o.checkpoint)) {
    checkpoint_path = fs::weakly_canonical(o.checkpoint).string();
    bf16 = use_bf16(o.precision);
    const CheckpointState& state = loaded.state;
    dataset_path = o.data.empty() ? state.dataset_path : o.data;
    if (!fs::exists(dataset_path))
      throw InputError(dataset_path + ": dataset not found" +
                       (o.data.empty() ? " (recorded in the checkpoint as the training dataset; give --data)" : ""));
    dataset = read_dataset(dataset_path);
    check_dataset_matches(dataset, dataset_path, state);
    if (dataset.frame_count == 0) throw InputError(dataset_path + ": holds no frame to encode");
    encoded = encode_dataset(*loaded.model, state, dataset, bf16);

    const Conformers example = conformers_of(state, dataset.frame_in_angstrom(0));
    metrics = available_metrics(example, StructureMetricSettings{o.data_dir, o.threads}, &notes);
    for (const auto& m : metrics) names.push_back(m.name);

    if (o.scan.empty()) {
      plane = plane_through_mean(encoded, 0, 1);
      bounds = padded_bounds(encoded, plane, 0.1);
    } else {
      read_scan_folder(o.scan);
    }
    make_temp_dir();
    info = constant_info();
  }

  ~Impl() {
    std::error_code ec;
    if (!temp_dir.empty()) fs::remove_all(temp_dir, ec);
  }

  void read_scan_folder(const std::string& folder) {
    const ScanData scan = read_scan(folder);
    check_scan_matches(scan, options.checkpoint, loaded.state.model.latent_dim);
    plane = scan.grid.plane;
    bounds = scan.grid.bounds;
    if (scan.x.size() != scan.y.size()) {
      notes.push_back(folder + ": a grid of " + std::to_string(scan.x.size()) + " x " + std::to_string(scan.y.size()) +
                      " points; the map shows square grids, so its maps are computed again");
      return;
    }
    default_grid = scan.x.size();
    for (const auto& l : scan.landscapes) {
      const StructureMetric* m = find_metric(l.name);
      const bool higher = m ? m->higher_is_better : l.name == "rama";
      store_map(l.name, l.unit, higher, scan.grid, l.values, "scan folder");
      if (std::find(names.begin(), names.end(), l.name) == names.end()) names.push_back(l.name);
    }
    if (!scan.find(default_landscape) && !scan.landscapes.empty()) default_landscape = scan.landscapes.front().name;
  }

  void make_temp_dir() {
    std::string pattern = (fs::temp_directory_path() / "molearn-gui-XXXXXX").string();
    if (!mkdtemp(pattern.data())) throw OutputError(pattern + ": cannot create a private temporary folder");
    temp_dir = pattern;
  }

  std::string temp_path(const std::string& extension) {
    return (fs::path(temp_dir) / ("file-" + std::to_string(temp_counter.fetch_add(1)) + extension)).string();
  }

  const StructureMetric* find_metric(const std::string& name) const {
    for (const auto& m : metrics)
      if (m.name == name) return &m;
    return nullptr;
  }

  json constant_info() const {
    const CheckpointState& state = loaded.state;
    json j;
    j["version"] = MOLEARN_VERSION;
    j["checkpoint"] = checkpoint_path;
    j["model"] = {{"kind", state.model.architecture}, {"latent_dim", state.model.latent_dim}, {"epoch", state.epoch}};
    j["atoms"] = state.topology.atom_count();
    j["residues"] = state.topology.residue_count();
    j["dataset"] = {{"path", fs::weakly_canonical(dataset_path).string()}, {"frames", dataset.frame_count}};
    j["plane"] = {{"dims", {plane.dims[0], plane.dims[1]}}, {"origin", plane.origin}};
    j["bounds"] = {bounds.x0, bounds.x1, bounds.y0, bounds.y1};
    std::vector<std::string> split(dataset.frame_count, "");
    for (std::size_t f : dataset.train_indices) split[f] = "train";
    for (std::size_t f : dataset.valid_indices) split[f] = "valid";
    j["encoded"] = json::array();
    for (std::size_t f = 0; f < encoded.size(); ++f) {
      const auto [x, y] = plane.project(encoded[f]);
      json e = {{"frame", f}, {"x", x}, {"y", y}, {"split", split[f].empty() ? "unused" : split[f]}};
      if (f < dataset.origins.size() && dataset.origins[f].file < dataset.sources.size()) {
        e["source"] = fs::path(dataset.sources[dataset.origins[f].file]).filename().string();
        e["source_frame"] = dataset.origins[f].frame;
      }
      j["encoded"].push_back(std::move(e));
    }
    j["landscapes"] = json::array();
    for (const auto& name : names) {
      const StructureMetric* m = find_metric(name);
      const auto d = landscape_descriptions().find(name);
      j["landscapes"].push_back({{"name", name},
                                 {"unit", m ? m->unit : ""},
                                 {"higher_is_better", m ? m->higher_is_better : name == "rama"},
                                 {"computable", m != nullptr},
                                 {"description", d == landscape_descriptions().end() ? "" : d->second}});
    }
    j["default"] = {{"landscape", default_landscape}, {"grid", default_grid}};
    j["notes"] = notes;
    return j;
  }

  void store_map(const std::string& name, const std::string& unit, bool higher_is_better, const LatentGrid& grid,
                 std::vector<double> values, const std::string& source) {
    json doc = {{"state", "done"},
                {"landscape", name},
                {"unit", unit},
                {"higher_is_better", higher_is_better},
                {"grid", {grid.nx(), grid.ny()}},
                {"x", grid.x},
                {"y", grid.y},
                {"source", source}};
    json z = json::array();
    for (std::size_t j = 0; j < grid.ny(); ++j)
      z.push_back(values_json({values.begin() + j * grid.nx(), values.begin() + (j + 1) * grid.nx()}));
    doc["z"] = std::move(z);
    std::lock_guard lock(maps_mutex);
    maps[{name, grid.nx()}] = CachedMap{std::move(doc), grid, std::move(values), higher_is_better};
  }

  // The latent point of a requested one, refused when it lies far off the
  // map (more than the map's width or height beyond its edges): the model
  // decodes such points into nonsense, thousands of Å wide.
  std::vector<double> latent_of(const RequestPoint& p, const std::string& field) const {
    std::vector<double> z = p.on_plane ? plane.lift(p.values[0], p.values[1]) : p.values;
    const auto [x, y] = plane.project(z);
    const double w = bounds.x1 - bounds.x0, h = bounds.y1 - bounds.y0;
    if (x < bounds.x0 - w || x > bounds.x1 + w || y < bounds.y0 - h || y > bounds.y1 + h) {
      std::ostringstream text;
      text.precision(5);
      text << field << " lies at (" << x << ", " << y << ") on the map's plane, far outside the map [" << bounds.x0
           << ", " << bounds.x1 << "] x [" << bounds.y0 << ", " << bounds.y1 << "]";
      throw BadRequest(text.str());
    }
    return z;
  }

  std::vector<std::vector<double>> latent_of(const std::vector<RequestPoint>& points) const {
    std::vector<std::vector<double>> latent;
    for (std::size_t k = 0; k < points.size(); ++k)
      latent.push_back(latent_of(points[k], "points[" + std::to_string(k) + "]"));
    return latent;
  }

  // Decodes `points` with `landscapes`; the structures (Å) go to `xyz`. The
  // model is locked one chunk at a time, so a long path and a map job take
  // turns instead of one waiting for the whole of the other.
  LatentEvaluation evaluate(const std::vector<std::vector<double>>& points,
                            const std::vector<StructureMetric>& landscapes, std::vector<float>* xyz) {
    LatentEvaluationOptions o;
    o.batch_size = options.batch_size;
    o.bf16 = bf16;
    o.landscapes = landscapes;
    if (xyz)
      o.on_structures = [xyz](const Conformers& batch) { xyz->insert(xyz->end(), batch.xyz.begin(), batch.xyz.end()); };
    LatentEvaluation all;
    for (std::size_t begin = 0; begin < points.size(); begin += kMapChunk) {
      const std::vector<std::vector<double>> chunk(points.begin() + begin,
                                                   points.begin() + std::min(points.size(), begin + kMapChunk));
      std::lock_guard lock(model_mutex);
      LatentEvaluation part = evaluate_latent_points(*loaded.model, loaded.state, chunk, o);
      if (begin == 0) {
        all = std::move(part);
        continue;
      }
      for (std::size_t l = 0; l < part.landscapes.size(); ++l)
        all.landscapes[l].values.insert(all.landscapes[l].values.end(), part.landscapes[l].values.begin(),
                                        part.landscapes[l].values.end());
      all.decode_seconds += part.decode_seconds;
      all.points_done += part.points_done;
    }
    return all;
  }

  std::vector<double> encode_waypoint(const Waypoint& w, std::size_t index) {
    const std::string field = "waypoints[" + std::to_string(index) + "]";
    if (w.kind == Waypoint::Kind::Point) return latent_of(w.point, field);
    PathEndpoint endpoint;
    std::string file;
    if (w.kind == Waypoint::Kind::Frame) {
      if (w.frame >= dataset.frame_count)
        throw BadRequest(field + ": frame " + std::to_string(w.frame) + " does not exist; the dataset has " +
                         std::to_string(dataset.frame_count) + " frames, numbered from 0");
      endpoint.frame = w.frame;
    } else {
      file = temp_path(".pdb");
      std::ofstream out(file, std::ios::binary);
      out << w.pdb_text;
      out.close();
      if (!out) throw OutputError(file + ": cannot write the uploaded PDB (disk full?)");
      endpoint.file = file;
    }
    try {
      std::lock_guard lock(model_mutex);
      auto z = encode_endpoint(*loaded.model, loaded.state, dataset, dataset_path, endpoint, "", bf16);
      if (!file.empty()) fs::remove(file);
      return z;
    } catch (const InputError& e) {
      if (!file.empty()) fs::remove(file);
      std::string message = e.what();
      if (!file.empty()) replace_all(message, file, "the uploaded PDB");
      throw BadRequest(field + ": " + message);
    }
  }

  std::string write_structures(const std::vector<float>& xyz, std::size_t frames, const std::string& format) {
    const std::string file = temp_path("." + format);
    const std::size_t atoms = loaded.state.topology.atom_count();
    try {
      auto writer = open_trajectory_writer(file, loaded.state.topology);
      for (std::size_t f = 0; f < frames; ++f) {
        Frame frame;
        frame.xyz.assign(xyz.begin() + f * atoms * 3, xyz.begin() + (f + 1) * atoms * 3);
        writer->write(frame);
      }
      writer->close();
    } catch (const Error& e) {  // e.g. coordinates too large for the PDB's columns
      std::string message = e.what();
      replace_all(message, file, "the decoded structures");
      throw BadRequest(message);
    }
    std::string bytes = read_whole_file(file);
    fs::remove(file);
    return bytes;
  }
};

GuiSession::GuiSession(const GuiSessionOptions& options) : impl_(std::make_unique<Impl>(options)) {}
GuiSession::~GuiSession() = default;

std::size_t GuiSession::latent_dim() const { return impl_->plane.latent_dim(); }
const std::vector<std::string>& GuiSession::landscape_names() const { return impl_->names; }
const std::vector<std::string>& GuiSession::notes() const { return impl_->notes; }

json GuiSession::info(const ApiLimits& limits) const {
  json j = impl_->info;
  j["limits"] = limits.to_json();
  j["scanned"] = json::array();
  std::lock_guard lock(impl_->maps_mutex);
  for (const auto& [key, map] : impl_->maps) j["scanned"].push_back({{"landscape", key.first}, {"grid", key.second}});
  return j;
}

std::optional<json> GuiSession::cached_map(const MapRequest& request) const {
  std::lock_guard lock(impl_->maps_mutex);
  const auto it = impl_->maps.find({request.landscape, request.grid});
  if (it == impl_->maps.end()) return std::nullopt;
  return it->second.doc;
}

std::optional<json> GuiSession::compute_map(const MapRequest& request,
                                            const std::function<void(std::size_t, std::size_t)>& progress,
                                            const std::function<bool()>& stop) {
  const StructureMetric* metric = impl_->find_metric(request.landscape);
  if (!metric) {
    std::string why;
    for (const auto& note : impl_->notes)
      if (note.rfind(request.landscape + " ", 0) == 0) why = " (" + note + ")";
    throw BadRequest("the '" + request.landscape + "' landscape cannot be computed here" + why);
  }
  const LatentGrid grid = make_latent_grid(request.grid, request.grid, impl_->bounds, impl_->plane);
  std::vector<double> values;
  values.reserve(grid.size());
  for (std::size_t begin = 0; begin < grid.size(); begin += kMapChunk) {
    if (stop && stop()) return std::nullopt;
    std::vector<std::vector<double>> chunk;
    for (std::size_t k = begin; k < std::min(grid.size(), begin + kMapChunk); ++k) chunk.push_back(grid.point(k));
    const LatentEvaluation e = impl_->evaluate(chunk, {*metric}, nullptr);
    const auto& v = e.landscapes.front().values;
    values.insert(values.end(), v.begin(), v.end());
    if (progress) progress(values.size(), grid.size());
  }
  impl_->store_map(metric->name, metric->unit, metric->higher_is_better, grid, std::move(values), "computed");
  return cached_map(request);
}

json GuiSession::path(const PathRequest& request) {
  std::vector<std::vector<double>> waypoints;
  for (std::size_t k = 0; k < request.waypoints.size(); ++k)
    waypoints.push_back(impl_->encode_waypoint(request.waypoints[k], k));
  std::vector<std::vector<double>> polyline = waypoints;
  if (request.landscape != "straight") {
    LatentGrid grid;
    std::vector<double> costs;
    {
      std::lock_guard lock(impl_->maps_mutex);
      const auto it = impl_->maps.find({request.landscape, request.grid});
      if (it == impl_->maps.end())
        throw MapNotComputed("the '" + request.landscape + "' map at grid " + std::to_string(request.grid) +
                             " has not been computed yet: compute it first (POST /api/scan)");
      grid = it->second.grid;
      costs = it->second.values;
      // A* minimises: a landscape where higher is better is turned upside down.
      if (it->second.higher_is_better)
        for (double& v : costs) v = -v;
    }
    try {
      polyline = least_cost_polyline(waypoints, grid, costs);
    } catch (const InputError& e) {
      std::string message = e.what();
      replace_all(message, "scan a larger region (--bounds, --padding)",
                  "choose ends inside the map, or a straight path");
      throw BadRequest("least-cost path: " + message);
    }
  }
  const auto points = resample_polyline(polyline, request.steps);
  std::vector<float> xyz;
  const LatentEvaluation e = impl_->evaluate(points, impl_->metrics, &xyz);

  json j = {{"landscape", request.landscape}, {"steps", points.size()}, {"points", points}};
  j["plane_points"] = json::array();
  for (const auto& p : points) {
    const auto [x, y] = impl_->plane.project(p);
    j["plane_points"].push_back({x, y});
  }
  j["metrics"] = json::array();
  for (const auto& l : e.landscapes)
    j["metrics"].push_back({{"name", l.name}, {"unit", l.unit}, {"values", values_json(l.values)}});
  const std::size_t n = impl_->loaded.state.topology.atom_count() * 3;
  const std::span<const float> all(xyz);
  std::vector<double> to_start, to_end;
  for (std::size_t s = 0; s < points.size(); ++s) {
    to_start.push_back(qcp_rmsd(all.subspan(s * n, n), all.subspan(0, n)));
    to_end.push_back(qcp_rmsd(all.subspan(s * n, n), all.subspan((points.size() - 1) * n, n)));
  }
  j["metrics"].push_back({{"name", "rmsd_start"}, {"unit", "A"}, {"values", values_json(to_start)}});
  j["metrics"].push_back({{"name", "rmsd_end"}, {"unit", "A"}, {"values", values_json(to_end)}});
  j["pdb"] = impl_->write_structures(xyz, points.size(), "pdb");
  return j;
}

json GuiSession::metrics(const std::vector<RequestPoint>& points) {
  const LatentEvaluation e = impl_->evaluate(impl_->latent_of(points), impl_->metrics, nullptr);
  json j = {{"metrics", json::array()}};
  for (const auto& l : e.landscapes)
    j["metrics"].push_back({{"name", l.name}, {"unit", l.unit}, {"values", values_json(l.values)}});
  return j;
}

json GuiSession::decode_coordinates(const std::vector<RequestPoint>& points) {
  std::vector<float> xyz;
  impl_->evaluate(impl_->latent_of(points), {}, &xyz);
  const std::size_t n = impl_->loaded.state.topology.atom_count() * 3;
  json frames = json::array();
  for (std::size_t f = 0; f < points.size(); ++f)
    frames.push_back(std::vector<float>(xyz.begin() + f * n, xyz.begin() + (f + 1) * n));
  return {{"atoms", n / 3}, {"frames", std::move(frames)}};
}

std::string GuiSession::structures_file(const std::vector<RequestPoint>& points, const std::string& format) {
  std::vector<float> xyz;
  impl_->evaluate(impl_->latent_of(points), {}, &xyz);
  return impl_->write_structures(xyz, points.size(), format);
}

}  // namespace molearn::gui
