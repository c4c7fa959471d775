// `molearn scan`: landscapes over a grid of latent points (issue 13).
#include <torch/torch.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <thread>
#include <utility>

#include "commands.hpp"
#include "molearn/analysis/latent_grid.hpp"
#include "molearn/analysis/latent_path_torch.hpp"
#include "molearn/analysis/latent_scan_torch.hpp"
#include "molearn/analysis/metric_table.hpp"
#include "molearn/analysis/npy_float64.hpp"
#include "molearn/core/allocator.hpp"
#include "molearn/core/atomic_file.hpp"
#include "molearn/core/error.hpp"
#include "molearn/data/dataset_file.hpp"
#include "molearn/train/precision.hpp"
#include "option_checks.hpp"
#include "progress.hpp"

namespace molearn::cli {

namespace {

std::atomic<bool> g_stop{false};
extern "C" void request_scan_stop(int) { g_stop.store(true); }

struct ScanArgs {
  std::string checkpoint, data, grid = "64", bounds, plane = "0,1", metrics, output, data_dir;
  double padding = 0.1;
  std::size_t batch_size = 16;
  int threads = 0;
  std::string precision = "auto";
};

std::vector<std::string> split_names(const std::string& text) {
  std::vector<std::string> names;
  std::size_t start = 0;
  while (start <= text.size()) {
    const std::size_t comma = std::min(text.find(',', start), text.size());
    std::string name = text.substr(start, comma - start);
    name.erase(0, name.find_first_not_of(' '));
    name.erase(name.find_last_not_of(' ') + 1);
    if (!name.empty()) names.push_back(name);
    start = comma + 1;
  }
  return names;
}

std::string eta_text(double seconds) {
  const long s = static_cast<long>(seconds + 0.5);
  char text[32];
  std::snprintf(text, sizeof text, "%ldm%02lds", s / 60, s % 60);
  return text;
}

nlohmann::json plane_json(const LatentPlane& plane) {
  if (plane.is_whole_space()) return nullptr;
  return {{"dims", {plane.dims[0], plane.dims[1]}}, {"origin", plane.origin}};
}

nlohmann::json projected(const std::vector<std::vector<double>>& encoded, const std::vector<std::size_t>& frames,
                         const LatentPlane& plane) {
  auto points = nlohmann::json::array();
  for (std::size_t f : frames) {
    const auto [x, y] = plane.project(encoded[f]);
    points.push_back({x, y});
  }
  return points;
}

nlohmann::json summary_json(const LandscapeValues& l) {
  MetricTable table;
  table.columns = {l.column};
  for (double v : l.values) table.rows.push_back({v});
  const ColumnSummary s = summarise(table).front();
  return {{"mean", s.mean}, {"min", s.min}, {"max", s.max}, {"finite", s.finite}, {"not_finite", s.not_finite}};
}

void run_scan(const ScanArgs& args) {
  keep_freed_memory_for_reuse();  // decoding's activations are not page-faulted in again (core/allocator.hpp)
  // Cheap checks first, so a typo fails before the model loads.
  const auto [nx, ny] = parse_grid_size(args.grid);
  std::optional<GridBounds> bounds;
  if (!args.bounds.empty()) bounds = parse_bounds(args.bounds);
  if (args.batch_size == 0) throw InputError("--batch-size must be at least 1");
  const bool bf16 = use_bf16(args.precision);
  // From here on Ctrl-C stops after the current batch (or before the first).
  g_stop.store(false);
  std::signal(SIGINT, request_scan_stop);
  std::signal(SIGTERM, request_scan_stop);
  torch::set_num_threads(args.threads > 0 ? args.threads
                                          : static_cast<int>(std::max(1u, std::thread::hardware_concurrency())));
  const LoadedCheckpoint loaded = load_checkpoint(args.checkpoint);
  const CheckpointState& state = loaded.state;
  const std::string dataset_path = args.data.empty() ? state.dataset_path : args.data;
  const Dataset dataset = read_dataset(dataset_path);
  check_dataset_matches(dataset, dataset_path, state);
  const auto encoded = encode_dataset(*loaded.model, state, dataset, bf16);
  const auto dims = parse_plane(args.plane, static_cast<std::size_t>(state.model.latent_dim));
  const LatentGrid grid = grid_over_points(encoded, nx, ny, bounds, args.padding, dims);

  std::vector<std::string> notes;
  if (std::string note = precision_note(args.precision); !note.empty()) notes.push_back(std::move(note));
  const Conformers example = conformers_of(state, dataset.frame_in_angstrom(0));
  const StructureMetricSettings settings{args.data_dir, args.threads};
  LatentEvaluationOptions options;
  options.batch_size = args.batch_size;
  options.bf16 = bf16;
  options.landscapes = args.metrics.empty() ? available_metrics(example, settings, &notes)
                                            : structure_metrics(split_names(args.metrics), example, settings);
  if (options.landscapes.empty()) throw InputError("--metrics: no landscape named");
  if (!grid.plane.is_whole_space())
    notes.push_back("latent space of " + std::to_string(state.model.latent_dim) +
                    " dimensions: scanned the plane of dimensions " + std::to_string(dims.first) + " (x) and " +
                    std::to_string(dims.second) +
                    " (y) through the mean of the encoded frames; the other dimensions stay at 'origin'");

  const std::filesystem::path out(args.output);
  std::error_code ec;
  std::filesystem::create_directories(out, ec);
  if (ec || !std::filesystem::is_directory(out)) throw OutputError(args.output + ": cannot create the output folder");
  // A stale scan.json would make a half-written new scan look complete.
  std::filesystem::remove(out / "scan.json", ec);

  std::printf("scanning %zu x %zu latent points (x %.4g..%.4g, y %.4g..%.4g): %zu landscapes\n", nx, ny, grid.bounds.x0,
              grid.bounds.x1, grid.bounds.y0, grid.bounds.y1, options.landscapes.size());
  for (const auto& note : notes) std::printf("note: %s\n", note.c_str());
  std::fflush(stdout);
  std::vector<std::vector<double>> points;
  points.reserve(grid.size());
  for (std::size_t k = 0; k < grid.size(); ++k) points.push_back(grid.point(k));

  ProgressLine line;
  const auto start = std::chrono::steady_clock::now();
  options.on_progress = [&](std::size_t done, std::size_t total) {
    const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    const double eta = elapsed / double(done) * double(total - done);
    line.update("scan: " + std::to_string(done) + "/" + std::to_string(total) + " points  ETA " + eta_text(eta),
                done == total);
  };
  options.stop_requested = [] { return g_stop.load(); };
  const LatentEvaluation result = evaluate_latent_points(*loaded.model, state, points, options);
  std::signal(SIGINT, SIG_DFL);
  std::signal(SIGTERM, SIG_DFL);
  line.finish();
  if (result.interrupted) {
    std::printf("interrupted after %zu of %zu points; nothing written (scan.json absent)\n", result.points_done,
                points.size());
    throw Interrupted();
  }

  nlohmann::json doc = {{"command", "scan"},
                        // Absolute, so `molearn path --scan` can tell it from any folder.
                        {"checkpoint", std::filesystem::weakly_canonical(args.checkpoint).string()},
                        {"dataset", dataset_path},
                        {"latent_dim", state.model.latent_dim},
                        {"precision", bf16 ? "bf16" : "fp32"},
                        {"grid", {nx, ny}},
                        {"bounds", {grid.bounds.x0, grid.bounds.x1, grid.bounds.y0, grid.bounds.y1}},
                        {"plane", plane_json(grid.plane)},
                        {"x", grid.x},
                        {"y", grid.y}};
  doc["metrics"] = nlohmann::json::object();
  doc["seconds"] = {{"decode", result.decode_seconds}, {"metrics", nlohmann::json::object()}};
  for (const auto& l : result.landscapes) {
    const std::string file = l.name + ".npy";
    write_npy_float64((out / file).string(), l.values, {ny, nx});
    doc["metrics"][l.name] = {{"file", file}, {"unit", l.unit}, {"column", l.column}, {"summary", summary_json(l)}};
    doc["seconds"]["metrics"][l.name] = l.seconds;
    const auto& s = doc["metrics"][l.name]["summary"];
    std::printf("%-9s mean %.4g  min %.4g  max %.4g %s  (%.1f s)%s\n", l.name.c_str(), s["mean"].get<double>(),
                s["min"].get<double>(), s["max"].get<double>(), l.unit.c_str(), l.seconds,
                s["not_finite"].get<std::size_t>() ? "  some points not finite" : "");
    if (s["not_finite"].get<std::size_t>())
      notes.push_back(l.name + ": " + std::to_string(s["not_finite"].get<std::size_t>()) +
                      " grid points gave no finite value (NaN in the NPY)");
  }
  doc["encoded"] = {{"train", projected(encoded, dataset.train_indices, grid.plane)},
                    {"valid", projected(encoded, dataset.valid_indices, grid.plane)}};
  doc["notes"] = notes;
  AtomicFile json((out / "scan.json").string());
  json.stream() << doc.dump(1) << "\n";
  json.commit();
  std::printf("decoding %.1f s; wrote %s\n", result.decode_seconds, (out / "scan.json").string().c_str());
}

}  // namespace

void add_scan_command(CLI::App& app) {
  auto args = std::make_shared<ScanArgs>();
  CLI::App* cmd = app.add_subcommand(
      "scan",
      "Decode a grid of latent points and map landscapes over it: error (A, RMSD between decode(z) and "
      "decode(encode(decode(z)))), drift (|encode(decode(z)) - z|) and per-structure metrics of the decoded "
      "structures (dope, rama, energy, geometry). Writes one float64 NPY [ny, nx] per landscape and scan.json "
      "(grid, bounds, encoded training and validation points, summaries); scan.json is written last.");
  cmd->add_option("checkpoint", args->checkpoint, "Checkpoint written by 'molearn train'")->required();
  cmd->add_option("--data", args->data, "Dataset whose encoded frames set the region (default: the training dataset)");
  cmd->add_option("--grid", args->grid, "Points per side: N (N x N) or NX,NY")->capture_default_str();
  cmd->add_option("--bounds", args->bounds, "Grid region x0,x1,y0,y1 (default: the encoded frames plus padding)");
  cmd->add_option("--padding", args->padding, "Extra margin around the encoded frames, as a fraction of their extent")
      ->capture_default_str();
  cmd->add_option("--plane", args->plane,
                  "Latent dimensions i,j of the scanned plane (latent spaces above 2-D; the plane goes through the "
                  "mean of the encoded frames)")
      ->capture_default_str();
  cmd->add_option("--metrics", args->metrics,
                  "Landscapes, comma-separated: error, drift, dope, rama, energy, geometry (default: every one "
                  "available)");
  cmd->add_option("--data-dir", args->data_dir, "Folder of reference tables (dope/, rama8000/)");
  cmd->add_option("--batch-size", args->batch_size, "Structures decoded at once (memory grows with it)")
      ->capture_default_str();
  add_threads_option(cmd, args->threads, "Threads (0: all cores)");
  add_precision_option(cmd, args->precision, "encoding the frames and decoding the grid");
  cmd->add_option("-o,--output", args->output, "Output folder")->required();
  cmd->footer(
      "Examples:\n"
      "  molearn scan run/best.ckpt -o scan/\n"
      "  molearn scan run/best.ckpt --grid 32 --metrics error,drift -o scan/\n"
      "  molearn scan run/best.ckpt --data murd.mlds --bounds -2,2,-1.5,1.5 --metrics dope,rama -o scan/\n"
      "  molearn scan run/best.ckpt --plane 0,2 --grid 48 -o scan02/    # a 3-D latent space\n"
      "  molearn scan run/best.ckpt --grid 64 --precision fp32 -o scan/  # not bf16 (auto's pick on AVX512-BF16)\n"
      "Ctrl-C stops after the current batch and writes nothing.");
  cmd->callback([args] { run_scan(*args); });
}

}  // namespace molearn::cli
