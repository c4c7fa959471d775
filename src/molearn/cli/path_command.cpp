// `molearn path`: a transition path in latent space between two structures
// (dataset frames or files), straight or least-cost over a landscape (A*),
// decoded into structures (issue 13).
#include <torch/torch.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <thread>
#include <utility>

#include "commands.hpp"
#include "molearn/analysis/latent_grid.hpp"
#include "molearn/analysis/latent_path_torch.hpp"
#include "molearn/analysis/latent_scan_torch.hpp"
#include "molearn/analysis/least_cost_path.hpp"
#include "molearn/analysis/scan_folder.hpp"
#include "molearn/core/allocator.hpp"
#include "molearn/core/atomic_file.hpp"
#include "molearn/core/error.hpp"
#include "molearn/data/dataset_file.hpp"
#include "molearn/io/trajectory_writer.hpp"
#include "molearn/train/precision.hpp"
#include "option_checks.hpp"
#include "progress.hpp"

namespace molearn::cli {

namespace {

constexpr int kMaxSteps = 10000;

std::atomic<bool> g_stop{false};
extern "C" void request_path_stop(int) { g_stop.store(true); }

struct PathArgs {
  std::string checkpoint, data, from, to, landscape = "straight", scan, grid = "32", output, csv, top, data_dir;
  std::vector<std::string> via;
  int steps = 10;
  std::size_t batch_size = 16;
  int threads = 0;
  std::string precision = "auto";
  bool bf16 = false;  // resolved from precision
};

struct Landscape {
  LatentGrid grid;
  std::vector<double> values;  // row-major [ny][nx]
};

std::string csv_path(const PathArgs& args) {
  if (!args.csv.empty()) return args.csv;
  return std::filesystem::path(args.output).replace_extension(".csv").string();
}

// A landscape written by `molearn scan`, checked against this checkpoint.
Landscape read_scan_landscape(const std::string& folder, const std::string& name, const PathArgs& args,
                              const CheckpointState& state) {
  const ScanData scan = read_scan(folder);
  check_scan_matches(scan, args.checkpoint, state.model.latent_dim);
  const ScanLandscape* landscape = scan.find(name);
  if (!landscape) {
    std::string have;
    for (const auto& l : scan.landscapes) have += (have.empty() ? "" : ", ") + l.name;
    throw InputError((std::filesystem::path(folder) / "scan.json").string() + ": has no '" + name +
                     "' landscape (it has: " + have + "); scan it with --metrics " + name +
                     ", or choose another --landscape");
  }
  return {scan.grid, landscape->values};
}

// Scans `metric` on a grid over the encoded frames and the path's
// waypoints, with a progress line.
Landscape scan_landscape(const LoadedCheckpoint& loaded, const Dataset& dataset, const StructureMetric& metric,
                         const std::vector<std::vector<double>>& waypoints, const PathArgs& args) {
  const auto [nx, ny] = parse_grid_size(args.grid);
  auto covered = encode_dataset(*loaded.model, loaded.state, dataset, args.bf16);
  covered.insert(covered.end(), waypoints.begin(), waypoints.end());
  Landscape land{grid_over_points(covered, nx, ny, std::nullopt, 0.1, {0, 1}), {}};
  std::vector<std::vector<double>> points;
  for (std::size_t k = 0; k < land.grid.size(); ++k) points.push_back(land.grid.point(k));
  LatentEvaluationOptions options;
  options.batch_size = args.batch_size;
  options.bf16 = args.bf16;
  options.landscapes = {metric};
  ProgressLine line;
  const auto start = std::chrono::steady_clock::now();
  options.on_progress = [&](std::size_t done, std::size_t total) {
    const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    line.update("scanning " + metric.name + ": " + std::to_string(done) + "/" + std::to_string(total) +
                    " points  ETA " + std::to_string(static_cast<long>(elapsed / double(done) * double(total - done))) +
                    " s",
                done == total);
  };
  options.stop_requested = [] { return g_stop.load(); };
  const LatentEvaluation result = evaluate_latent_points(*loaded.model, loaded.state, points, options);
  line.finish();
  if (result.interrupted) {
    std::printf("interrupted while scanning; nothing written\n");
    throw Interrupted();
  }
  land.values = result.landscapes.front().values;
  return land;
}

void write_csv(const std::string& path, const std::vector<std::vector<double>>& points,
               const LatentEvaluation& result) {
  AtomicFile file(path);
  auto& out = file.stream();
  out << "step";
  for (std::size_t k = 0; k < points.front().size(); ++k) out << ",z" << k;
  for (const auto& l : result.landscapes) out << "," << l.name;
  out << "\n";
  out.precision(10);
  for (std::size_t s = 0; s < points.size(); ++s) {
    out << s;
    for (double v : points[s]) out << "," << v;
    for (const auto& l : result.landscapes) out << "," << l.values[s];
    out << "\n";
  }
  file.commit();
}

void print_steps(const std::vector<std::vector<double>>& points, const LatentEvaluation& result) {
  std::printf("step  latent point");
  for (const auto& l : result.landscapes) std::printf("  %s (%s)", l.name.c_str(), l.unit.c_str());
  std::printf("\n");
  for (std::size_t s = 0; s < points.size(); ++s) {
    std::printf("%4zu  ", s);
    for (std::size_t k = 0; k < points[s].size(); ++k) std::printf("%s%.4f", k ? "," : "", points[s][k]);
    for (const auto& l : result.landscapes) std::printf("  %.4g", l.values[s]);
    std::printf("\n");
  }
}

void run_path(PathArgs args) {
  keep_freed_memory_for_reuse();  // decoding's activations are not page-faulted in again (core/allocator.hpp)
  args.bf16 = use_bf16(args.precision);
  if (args.steps < 2 || args.steps > kMaxSteps)
    throw InputError("--steps " + std::to_string(args.steps) + ": expected 2 to " + std::to_string(kMaxSteps) +
                     " structures (both ends included)");
  const bool straight = args.landscape == "straight";
  const auto& names = landscape_names();
  if (!straight && std::find(names.begin(), names.end(), args.landscape) == names.end())
    throw InputError("--landscape '" + args.landscape +
                     "': expected straight, error, drift, dope, rama, energy or geometry");
  if (straight && !args.scan.empty()) throw InputError("--scan needs a --landscape other than straight");
  // The structures and the CSV must destroy none of the inputs, nor each other.
  const std::string csv_output = csv_path(args);
  if (same_file(args.output, csv_output))
    throw InputError(args.output + ": named both as the structures (-o) and the per-step CSV (--csv)");
  std::vector<std::string> inputs = {args.checkpoint, args.data, args.from, args.to, args.top};
  inputs.insert(inputs.end(), args.via.begin(), args.via.end());
  if (!args.scan.empty()) inputs.push_back((std::filesystem::path(args.scan) / "scan.json").string());
  for (const std::string& output : {args.output, csv_output}) {
    check_output_is_not_input(output, inputs);
    check_regular_output(output);
  }
  std::vector<PathEndpoint> ends{parse_endpoint(args.from)};
  for (const auto& v : args.via) ends.push_back(parse_endpoint(v));
  ends.push_back(parse_endpoint(args.to));
  g_stop.store(false);
  std::signal(SIGINT, request_path_stop);
  std::signal(SIGTERM, request_path_stop);
  torch::set_num_threads(args.threads > 0 ? args.threads
                                          : static_cast<int>(std::max(1u, std::thread::hardware_concurrency())));
  const LoadedCheckpoint loaded = load_checkpoint(args.checkpoint);
  const CheckpointState& state = loaded.state;
  auto writer = open_trajectory_writer(args.output, state.topology);  // checks the extension early
  const std::string dataset_path = args.data.empty() ? state.dataset_path : args.data;
  const Dataset dataset = read_dataset(dataset_path);
  check_dataset_matches(dataset, dataset_path, state);
  std::vector<std::vector<double>> waypoints;
  for (const auto& e : ends)
    waypoints.push_back(encode_endpoint(*loaded.model, state, dataset, dataset_path, e, args.top, args.bf16));

  const Conformers example = conformers_of(state, dataset.frame_in_angstrom(0));
  const StructureMetricSettings settings{args.data_dir, args.threads};
  std::vector<std::vector<double>> polyline = waypoints;
  std::vector<std::string> notes;
  if (std::string note = precision_note(args.precision); !note.empty()) notes.push_back(std::move(note));
  std::vector<StructureMetric> metrics = available_metrics(example, settings, &notes);
  if (!straight) {
    const StructureMetric metric = structure_metric(args.landscape, example, settings);
    Landscape land = args.scan.empty() ? scan_landscape(loaded, dataset, metric, waypoints, args)
                                       : read_scan_landscape(args.scan, args.landscape, args, state);
    // A* minimises: a landscape where higher is better (Ramachandran
    // favoured fraction) is turned upside down.
    if (metric.higher_is_better)
      for (double& v : land.values) v = -v;
    polyline = least_cost_polyline(waypoints, land.grid, land.values);
  }
  const auto points = resample_polyline(polyline, static_cast<std::size_t>(args.steps));

  LatentEvaluationOptions options;
  options.batch_size = args.batch_size;
  options.bf16 = args.bf16;
  options.landscapes = std::move(metrics);
  options.on_structures = [&writer](const Conformers& batch) {
    for (std::size_t f = 0; f < batch.frame_count; ++f) {
      Frame frame;
      const auto xyz = batch.frame(f);
      frame.xyz.assign(xyz.begin(), xyz.end());
      writer->write(frame);
    }
  };
  options.stop_requested = [] { return g_stop.load(); };
  const LatentEvaluation result = evaluate_latent_points(*loaded.model, state, points, options);
  if (result.interrupted) {
    std::printf("interrupted; nothing written\n");
    throw Interrupted();
  }
  std::signal(SIGINT, SIG_DFL);
  std::signal(SIGTERM, SIG_DFL);
  for (const auto& note : notes) std::printf("note: %s\n", note.c_str());
  print_steps(points, result);
  const std::string csv = csv_path(args);
  write_csv(csv, points, result);
  writer->close();
  std::printf(
      "wrote %zu structures x %zu atoms (%s path, %zu latent points on the way) to %s; per-step metrics to %s\n",
      points.size(), state.topology.atom_count(), args.landscape.c_str(), polyline.size(), args.output.c_str(),
      csv.c_str());
}

}  // namespace

void add_path_command(CLI::App& app) {
  auto args = std::make_shared<PathArgs>();
  CLI::App* cmd = app.add_subcommand(
      "path",
      "A transition path in latent space between two structures (dataset frame indices or structure files), "
      "straight or least-cost over a landscape (A* on a scanned grid, as Python molearn's path.py), resampled "
      "to --steps evenly spaced points and decoded into structures (A, training topology), with per-step "
      "metrics printed and written as CSV.");
  cmd->add_option("checkpoint", args->checkpoint, "Checkpoint written by 'molearn train'")->required();
  cmd->add_option("--data", args->data, "Dataset of the frame indices (default: the training dataset)");
  cmd->add_option("--from", args->from, "Start: a dataset frame index (0-based) or a structure file")->required();
  cmd->add_option("--to", args->to, "End: a dataset frame index or a structure file")->required();
  cmd->add_option("--via", args->via, "A waypoint between (repeat for several, in order)");
  cmd->add_option("--top", args->top, "Topology for endpoint files without one (DCD, XTC)");
  cmd->add_option("--landscape", args->landscape,
                  "straight, or the landscape to minimise: error, drift, dope, rama (favoured fraction, maximised), "
                  "energy, geometry")
      ->capture_default_str();
  cmd->add_option("--scan", args->scan, "Folder written by 'molearn scan' with that landscape (default: scan now)");
  cmd->add_option("--grid", args->grid, "Grid of the scan made when --scan is not given: N or NX,NY")
      ->capture_default_str();
  cmd->add_option("--steps", args->steps, "Structures along the path, both ends included")->capture_default_str();
  cmd->add_option("-o,--output", args->output, "Output structures (.pdb or .dcd)")->required();
  cmd->add_option("--csv", args->csv, "Per-step metrics (default: OUTPUT with .csv)");
  cmd->add_option("--data-dir", args->data_dir, "Folder of reference tables (dope/, rama8000/)");
  cmd->add_option("--batch-size", args->batch_size, "Structures decoded at once")->capture_default_str();
  add_threads_option(cmd, args->threads, "Threads (0: all cores)");
  add_precision_option(cmd, args->precision, "encoding the ends and decoding the path");
  cmd->footer(
      "Examples:\n"
      "  molearn path run/best.ckpt --from 0 --to 15 -o path.pdb\n"
      "  molearn path run/best.ckpt --from open.pdb --to closed.pdb --landscape error --steps 20 -o path.dcd\n"
      "  molearn scan run/best.ckpt --metrics error,dope -o scan/ && \\\n"
      "    molearn path run/best.ckpt --from 0 --via 7 --to 15 --landscape dope --scan scan/ -o path.pdb\n"
      "The ends of the path are exactly the decoded endpoints; the least-cost path follows grid cells between.");
  cmd->callback([args] { run_path(*args); });
}

}  // namespace molearn::cli
