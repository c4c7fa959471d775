// `molearn report`: one self-contained HTML page about a training run (and a
// latent-space scan), its figures as PNG/SVG for papers, and the headline
// numbers as JSON. The data come from analyse_run(); this file lays them out.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <iterator>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>

#include "commands.hpp"
#include "molearn/analysis/report_figures.hpp"
#include "molearn/analysis/report_html.hpp"
#include "molearn/analysis/run_analysis_torch.hpp"
#include "molearn/core/allocator.hpp"
#include "molearn/core/atomic_file.hpp"
#include "molearn/core/error.hpp"
#include "option_checks.hpp"
#include "progress.hpp"

namespace molearn::cli {

namespace {

namespace fs = std::filesystem;
using nlohmann::json;

struct ReportArgs {
  RunAnalysisOptions run;
  std::string scan;
  std::string output;
};

constexpr const char* kTrainColour = "#0072B2";
constexpr const char* kValidColour = "#D55E00";
constexpr const char* kReconColour = "#009E73";
constexpr const char* kMidColour = "#CC79A7";

std::string fixed(double v, int digits = 3) {
  if (!std::isfinite(v)) return "n/a";
  char text[64];
  std::snprintf(text, sizeof text, "%.*f", digits, v);
  return text;
}

// Significant digits for numbers of any size (energies, DOPE).
std::string general(double v) {
  if (!std::isfinite(v)) return "n/a";
  char text[64];
  std::snprintf(text, sizeof text, std::abs(v) >= 1e5 || (v != 0 && std::abs(v) < 1e-3) ? "%.4g" : "%.4f", v);
  return text;
}

std::vector<double> pick(const std::vector<double>& values, const std::vector<std::size_t>& which) {
  std::vector<double> out;
  for (std::size_t i : which) out.push_back(values[i]);
  return out;
}

ColumnSummary summary_of(const std::vector<double>& values) {
  MetricTable t;
  t.columns = {"v"};
  for (double v : values) t.rows.push_back({v});
  return summarise(t).front();
}

std::string group_label(const StructureGroup& g) {
  return g.label + " (" + std::to_string(g.conformers.frame_count) + ")";
}

// ---- sections ----

// The smallest finite value, NaN when there is none (a run without
// validation frames logs no validation RMSD).
double finite_min(const std::vector<double>& values) {
  double best = std::nan("");
  for (double v : values)
    if (std::isfinite(v) && !(best <= v)) best = v;
  return best;
}

std::vector<double> finite_values(const std::vector<double>& values) {
  std::vector<double> finite;
  std::copy_if(values.begin(), values.end(), std::back_inserter(finite), [](double v) { return std::isfinite(v); });
  return finite;
}

Table run_table(const RunAnalysis& run) {
  const auto& log = run.log;
  const double best_rmsd = finite_min(log.valid_rmsd);
  Table t{"Training run", {"quantity", "value"}, {}};
  t.rows = {
      {"model", run.model_kind + ", latent dimension " + std::to_string(run.latent_dim)},
      {"structures", std::to_string(run.frames) + " frames (" + std::to_string(run.train_indices.size()) +
                         " training, " + std::to_string(run.valid_indices.size()) + " validation) x " +
                         std::to_string(run.atoms) + " atoms, " + std::to_string(run.residues) + " residues"},
      {"epochs", std::to_string(log.epoch.size())},
      {"best epoch (lowest validation loss)", std::to_string(run.best_epoch)},
      {"best validation RMSD (lowest over epochs)",
       std::isfinite(best_rmsd) ? fixed(best_rmsd) + " Å" : "none: the dataset has no validation frames"},
      {"checkpoint analysed", run.checkpoint_kind + ".ckpt (epoch " + std::to_string(run.checkpoint_epoch) + ")"},
      {"reconstruction RMSD, training frames (mean)", fixed(summary_of(pick(run.rmsd, run.train_indices)).mean) + " Å"},
      {"reconstruction RMSD, validation frames (mean)",
       fixed(summary_of(pick(run.rmsd, run.valid_indices)).mean) + " Å"},
  };
  if (!run.rmsd_superposed.empty()) {
    t.rows.push_back({"superposed reconstruction RMSD, training frames (mean)",
                      fixed(summary_of(pick(run.rmsd_superposed, run.train_indices)).mean) + " Å"});
    t.rows.push_back({"superposed reconstruction RMSD, validation frames (mean)",
                      fixed(summary_of(pick(run.rmsd_superposed, run.valid_indices)).mean) + " Å"});
  }
  return t;
}

// Means of each metric per group, one column per group.
Table group_table(const RunAnalysis& run) {
  Table t{"Quality of the structures (means per frame)", {"metric"}, {}};
  for (const auto& g : run.groups) t.header.push_back(group_label(g));
  for (const MetricStatus& m : run.metric_status) {
    if (!m.available) {
      t.rows.push_back({m.title, "not available", "", ""});
      continue;
    }
    for (std::size_t c = 0; c < m.columns.size(); ++c) {
      std::vector<std::string> row{m.columns[c] + " (" + m.units[c] + ")"};
      for (const auto& g : run.groups)
        row.push_back(g.conformers.frame_count ? general(summary_of(g.metrics.column(m.columns[c])).mean) : "n/a");
      t.rows.push_back(row);
    }
  }
  return t;
}

ReportSection headline_section(const RunAnalysis& run) {
  ReportSection s{"headline", "Headline numbers", "", {}, {run_table(run), group_table(run)}, {}};
  s.text =
      "Reconstruction RMSD: each frame against its own decoded reconstruction, in Å, without refitting "
      "(as 'molearn generate --reconstruct' prints it). Midpoints: " +
      std::to_string(run.midpoint_pairs.size()) +
      " structures decoded halfway (in latent space) between consecutive training frames.";
  return s;
}

Series lines(std::string name, std::vector<double> x, std::vector<double> y, const char* colour) {
  return {std::move(name), SeriesStyle::Lines, std::move(x), std::move(y), colour};
}

// A log axis only when every value can go on it (with the physics loss the
// validation loss can be negative).
bool all_positive(const std::vector<double>& values) {
  return std::all_of(values.begin(), values.end(), [](double v) { return v > 0; });
}

ReportSection curves_section(const RunAnalysis& run) {
  const auto& log = run.log;
  ReportSection s{"curves", "Training curves", "From log.jsonl: one point per epoch.", {}, {}, {}};
  s.figures.push_back({"loss",
                       "Loss per epoch",
                       "epoch",
                       "loss (scaled units)",
                       {lines("training loss", log.epoch, log.train_loss, kTrainColour),
                        lines("validation loss", log.epoch, log.valid_mse, kValidColour)},
                       std::nullopt,
                       std::nullopt,
                       all_positive(log.train_loss) && all_positive(finite_values(log.valid_mse))});
  // With the physics loss active the best checkpoint is chosen by another
  // loss, on another scale (it can be negative): a figure of its own.
  const bool sinkhorn = !log.train_sinkhorn.empty();
  if (sinkhorn) {
    s.figures.push_back(
        {"sinkhorn",
         "Sinkhorn divergence per epoch (--trainer sinkhorn)",
         "epoch",
         "Sinkhorn divergence (scaled units²)",
         {lines("training batches", log.epoch, log.train_sinkhorn, kTrainColour),
          lines("validation frames", log.epoch, log.valid_sinkhorn, kValidColour)},
         std::nullopt,
         std::nullopt,
         all_positive(finite_values(log.train_sinkhorn)) && all_positive(finite_values(log.valid_sinkhorn))});
    s.notes.push_back(
        "Sinkhorn trainer: the decoder learns to turn latent points drawn from N(0, I) into structures; the "
        "divergence compares a batch of such decoded samples with the frames (0 for identical distributions) and, "
        "on the validation frames, chooses the best checkpoint. The two curves compare clouds of different "
        "sizes (a batch; up to 512 validation frames), whose finite-sample biases differ: their gap is not a "
        "generalisation gap. The loss curves above are the encoder's: it learns to invert the decoder, so that "
        "the data can be placed on the latent map.");
  }
  // The physics epochs' selection loss: neither the MSE nor the divergence.
  std::vector<double> selection(log.epoch.size(), std::nan(""));
  for (std::size_t e = 0; e < log.epoch.size(); ++e)
    if (std::isfinite(log.valid_loss[e]) && log.valid_loss[e] != log.valid_mse[e] &&
        !(sinkhorn && log.valid_loss[e] == log.valid_sinkhorn[e]))
      selection[e] = log.valid_loss[e];
  if (!finite_values(selection).empty()) {
    s.figures.push_back({"selection_loss",
                         "Checkpoint-selection loss per epoch (physics loss active)",
                         "epoch",
                         sinkhorn ? "log(validation divergence) + scale × log(mean energy)"
                                  : "log(validation MSE) + scale × log(mean energy)",
                         {lines("selection loss", log.epoch, selection, kValidColour)},
                         std::nullopt,
                         std::nullopt,
                         false});
    s.notes.push_back(
        "Loss per epoch: both curves are mean squared errors in scaled units. Once the physics loss is active the "
        "best checkpoint is the epoch with the lowest log(validation MSE) + scale × log(mean interpolation "
        "energy), as in Python molearn; that loss is drawn on its own.");
  }
  if (std::isfinite(finite_min(log.valid_rmsd)))
    s.figures.push_back({"valid_rmsd",
                         "Validation RMSD per epoch",
                         "epoch",
                         "validation RMSD (Å)",
                         {lines("validation RMSD", log.epoch, log.valid_rmsd, kValidColour)},
                         std::nullopt,
                         std::nullopt,
                         false});
  else
    s.notes.push_back("Validation RMSD: not available — the dataset has no validation frames.");
  if (!log.valid_bond_rmsd.empty())
    s.figures.push_back({"bond_curve",
                         "Bond lengths of the validation reconstructions per epoch",
                         "epoch",
                         "RMS deviation from the force field's bond lengths (Å)",
                         {lines("validation reconstructions", log.epoch, log.valid_bond_rmsd, kValidColour)},
                         std::nullopt,
                         std::nullopt,
                         false});
  if (!log.train_energy.empty())
    s.figures.push_back({"energy_curve",
                         "Force-field energy of decoded interpolations",
                         "epoch",
                         "energy (kJ/mol)",
                         {lines("training", log.epoch, log.train_energy, kTrainColour),
                          lines("validation", log.epoch, log.valid_energy, kValidColour)},
                         std::nullopt,
                         std::nullopt,
                         false});
  else
    s.notes.push_back(
        "Energy curves: not available — this run was trained without the physics loss, so "
        "log.jsonl holds no energies.");
  return s;
}

Series histogram(std::string name, std::vector<double> values, const char* colour) {
  return {std::move(name), SeriesStyle::Histogram, std::move(values), {}, colour};
}

ReportSection reconstruction_section(const RunAnalysis& run) {
  ReportSection s{"reconstruction",
                  "Reconstruction error",
                  "Per frame: RMSD between the frame and its reconstruction (encode, then decode) in Å.",
                  {},
                  {},
                  {}};
  s.figures.push_back({"rmsd_hist",
                       "Reconstruction RMSD (no refitting)",
                       "RMSD (Å)",
                       "fraction of frames",
                       {histogram("training frames", pick(run.rmsd, run.train_indices), kTrainColour),
                        histogram("validation frames", pick(run.rmsd, run.valid_indices), kValidColour)},
                       std::nullopt,
                       std::nullopt,
                       false});
  if (!run.rmsd_superposed.empty())
    s.figures.push_back({"rmsd_superposed_hist",
                         "Reconstruction RMSD after optimal superposition",
                         "RMSD (Å)",
                         "fraction of frames",
                         {histogram("training frames", pick(run.rmsd_superposed, run.train_indices), kTrainColour),
                          histogram("validation frames", pick(run.rmsd_superposed, run.valid_indices), kValidColour)},
                         std::nullopt,
                         std::nullopt,
                         false});
  else
    s.notes.push_back(run.superposed_note);
  return s;
}

Series latent_points(const RunAnalysis& run, const std::string& name, const std::vector<std::size_t>& which,
                     const char* colour) {
  Series s{name + " (" + std::to_string(which.size()) + ")", SeriesStyle::Markers, {}, {}, colour};
  for (std::size_t f : which) {
    s.x.push_back(run.latent[f][0]);
    s.y.push_back(run.latent_dim > 1 ? run.latent[f][1] : double(f));
  }
  return s;
}

ReportSection latent_section(const RunAnalysis& run) {
  ReportSection s{"latent", "Latent space", "Each dataset frame encoded by the model.", {}, {}, {}};
  if (run.latent_dim > 2) s.text += " The first two of " + std::to_string(run.latent_dim) + " latent dimensions.";
  s.figures.push_back({"latent",
                       "Encoded frames",
                       "latent dimension 1",
                       run.latent_dim > 1 ? "latent dimension 2" : "frame index",
                       {latent_points(run, "training frames", run.train_indices, kTrainColour),
                        latent_points(run, "validation frames", run.valid_indices, kValidColour)},
                       std::nullopt,
                       std::nullopt,
                       false});
  return s;
}

ReportSection ramachandran_section(const RunAnalysis& run) {
  ReportSection s{"ramachandran",
                  "Ramachandran plot",
                  "phi/psi of the general-class residues (not Gly, Pro, Ile, Val or before a Pro) of every frame.",
                  {},
                  {},
                  {}};
  Figure f{"ramachandran",
           "Ramachandran plot, general residues",
           "phi (degrees)",
           "psi (degrees)",
           {},
           std::nullopt,
           std::array<double, 4>{-180, 180, -180, 180},
           false};
  f.square = true;
  f.tick = 60;
  const char* colours[] = {kTrainColour, kReconColour, kMidColour};
  for (std::size_t i = 0; i < run.groups.size(); ++i) {
    const auto& g = run.groups[i];
    f.series.push_back({g.label, SeriesStyle::Markers, g.phi, g.psi, colours[i % 3]});
  }
  if (run.contours) {
    const auto& c = *run.contours;
    f.grid = GridLayer{"Top8000 general: allowed and favoured contours",
                       c.phi,
                       c.psi,
                       c.density,
                       true,
                       {c.allowed, c.favoured},
                       {"allowed region (Top8000 general)", "favoured region (Top8000 general)"}};
    s.text += " Grey contours: MolProbity's Top8000 general-class density at the allowed threshold (" +
              general(c.allowed) + ", outer, solid) and at the favoured threshold (" + general(c.favoured) +
              ", inner, dotted).";
  } else {
    s.notes.push_back("Contours " + run.contours_note);
  }
  s.figures.push_back(std::move(f));
  return s;
}

// What a metric column measures, in words, for figure titles.
std::string metric_label(const std::string& column) {
  static const std::pair<const char*, const char*> labels[] = {
      {"bond_rms_deviation", "Bond lengths: RMS deviation from ideal"},
      {"angle_rms_deviation", "Bond angles: RMS deviation from ideal"},
      {"clashes", "Clashes (heavy atoms closer than 3 Å)"},
      {"rama_favoured_fraction", "Ramachandran favoured residues"},
      {"rama_outliers", "Ramachandran outliers"},
      {"dope", "DOPE score (lower is more native-like)"},
      {"energy", "Force-field energy (Amber ff14SB)"}};
  for (const auto& [name, label] : labels)
    if (column == name) return label;
  return column;
}

ReportSection quality_section(const RunAnalysis& run) {
  ReportSection s{"quality", "Structure quality: training frames, reconstructions, straight-path midpoints", "", {}, {},
                  {}};
  s.text =
      "Training frames: the training split of the dataset. Reconstructions: those frames encoded and decoded. "
      "Midpoints: decoded at the latent midpoint of consecutive training frames (" +
      std::to_string(run.midpoint_pairs.size()) + " pairs, in dataset order).";
  const char* colours[] = {kTrainColour, kReconColour, kMidColour};
  for (const MetricStatus& m : run.metric_status) {
    if (!m.available) {
      s.notes.push_back(m.title + ": " + m.note);
      continue;
    }
    for (std::size_t c = 0; c < m.columns.size(); ++c) {
      Figure f{m.key + "_" + m.columns[c],
               metric_label(m.columns[c]),
               m.columns[c] + " (" + m.units[c] + ")",
               "fraction of structures",
               {},
               std::nullopt,
               std::nullopt,
               false};
      for (std::size_t i = 0; i < run.groups.size(); ++i)
        if (run.groups[i].conformers.frame_count)
          f.series.push_back(
              histogram(run.groups[i].label, run.groups[i].metrics.column(m.columns[c]), colours[i % 3]));
      if (histogram_bins(f))
        s.figures.push_back(std::move(f));
      else  // every structure gave NaN: an empty plot would say nothing
        s.notes.push_back(m.title + ": " + m.columns[c] + " is not available — no structure has a finite value.");
    }
  }
  return s;
}

ReportSection scan_section(const ScanData* scan) {
  ReportSection s{"scan", "Latent-space scan", "", {}, {}, {}};
  if (!scan) {
    s.notes.push_back(
        "Scan heatmaps: not available — no --scan folder was given (write one with 'molearn scan "
        "run/best.ckpt -o scan/', then pass --scan scan/).");
    return s;
  }
  s.text = "Landscapes of " + scan->folder + " (" + std::to_string(scan->x.size()) + " x " +
           std::to_string(scan->y.size()) + " grid), with the encoded training and validation frames.";
  if (!scan->plane.empty() && scan->plane != "null") s.text += " Plane: " + scan->plane + ".";
  for (const auto& l : scan->landscapes) {
    Figure f{"scan_" + l.name, "Scan: " + l.name, "latent x", "latent y", {}, std::nullopt, std::nullopt, false};
    f.grid = GridLayer{l.name + (l.unit.empty() ? "" : " (" + l.unit + ")"), scan->x, scan->y, l.values, false, {}, {}};
    Series train{"training frames", SeriesStyle::Markers, {}, {}, "#ffffff"};
    Series valid{"validation frames", SeriesStyle::Markers, {}, {}, kValidColour};
    for (auto [x, y] : scan->encoded_train) train.x.push_back(x), train.y.push_back(y);
    for (auto [x, y] : scan->encoded_valid) valid.x.push_back(x), valid.y.push_back(y);
    f.series = {train, valid};
    s.figures.push_back(std::move(f));
  }
  return s;
}

Report build_report(const RunAnalysis& run, const ScanData* scan, const std::string& figures_folder) {
  Report r;
  r.title = "molearn report: " + fs::path(run.run_dir).lexically_normal().string();
  r.subtitle = "checkpoint " + run.checkpoint_path + " · dataset " + run.dataset_path + " · figures as PNG/SVG in " +
               figures_folder;
  r.sections = {headline_section(run),     curves_section(run),  reconstruction_section(run), latent_section(run),
                ramachandran_section(run), quality_section(run), scan_section(scan)};
  return r;
}

// ---- report.json ----

json summary_json(const ColumnSummary& s) {
  return {{"mean", s.mean}, {"min", s.min}, {"max", s.max}, {"finite", s.finite}, {"not_finite", s.not_finite}};
}

json rmsd_json(const std::vector<double>& rmsd, const RunAnalysis& run) {
  if (rmsd.empty()) return nullptr;
  json j = json::object();
  for (auto [key, which] : {std::pair{"train", &run.train_indices}, std::pair{"valid", &run.valid_indices}}) {
    j[key] = summary_json(summary_of(pick(rmsd, *which)));
    j[key]["per_frame"] = pick(rmsd, *which);
    j[key]["frames"] = *which;
  }
  return j;
}

json report_json(const RunAnalysis& run, const ScanData* scan, const FigureFiles& files, const std::string& folder) {
  const auto& log = run.log;
  json j = {{"run", run.run_dir},
            {"checkpoint", run.checkpoint_path},
            {"checkpoint_epoch", run.checkpoint_epoch},
            {"dataset", run.dataset_path},
            {"model", run.model_kind},
            {"latent_dim", run.latent_dim},
            {"atoms", run.atoms},
            {"residues", run.residues},
            {"frames", run.frames},
            {"epochs", log.epoch.size()},
            {"best_epoch", run.best_epoch},
            {"best_valid_rmsd", finite_min(log.valid_rmsd)},
            {"reconstruction_rmsd", rmsd_json(run.rmsd, run)},
            {"reconstruction_rmsd_superposed", rmsd_json(run.rmsd_superposed, run)},
            {"midpoint_pairs", run.midpoint_pairs}};
  for (const auto& m : run.metric_status)
    j["metrics"][m.key] = {{"available", m.available}, {"note", m.note}, {"columns", m.columns}};
  for (const auto& g : run.groups) {
    json metrics = json::object();
    for (const auto& s : summarise(g.metrics)) metrics[s.name] = summary_json(s);
    j["groups"][g.key] = {{"label", g.label}, {"structures", g.conformers.frame_count}, {"metrics", metrics}};
  }
  j["figures"] = {{"folder", folder}, {"files", files.written}, {"notes", files.notes}};
  j["scan"] = scan ? json{{"folder", scan->folder}, {"grid", {scan->x.size(), scan->y.size()}}} : json(nullptr);
  return j;
}

std::vector<Figure> all_figures(const Report& report) {
  std::vector<Figure> figures;
  for (const auto& s : report.sections) figures.insert(figures.end(), s.figures.begin(), s.figures.end());
  return figures;
}

// The three outputs are staged, then moved into place together: a failure
// anywhere leaves none of them behind.
void run_report(ReportArgs& args) {
  keep_freed_memory_for_reuse();  // decoding's activations are not page-faulted in again (core/allocator.hpp)
  const fs::path out(args.output);
  if (out.extension() != ".html") throw InputError(args.output + ": the report is an HTML file; name it *.html");
  if (!out.parent_path().empty() && !fs::is_directory(out.parent_path()))
    throw OutputError(args.output + ": the folder " + out.parent_path().string() + " does not exist");
  const std::string plotly = load_plotly_js();  // fail before the long work
  const fs::path folder = out.parent_path() / (out.stem().string() + "_figures");
  const fs::path json_path = out.parent_path() / (out.stem().string() + ".json");
  const fs::path run_dir(args.run.run_dir);
  std::vector<std::string> inputs = {(run_dir / "log.jsonl").string(), (run_dir / "best.ckpt").string(),
                                     (run_dir / "last.ckpt").string(), args.run.dataset};
  if (!args.scan.empty()) {
    inputs.push_back((fs::path(args.scan) / "scan.json").string());
    inputs.push_back(args.scan);
  }
  for (const fs::path& output : {out, json_path, folder}) check_output_is_not_input(output.string(), inputs);
  std::unique_ptr<ScanData> scan;
  if (!args.scan.empty()) scan = std::make_unique<ScanData>(read_scan(args.scan));

  ProgressLine progress;
  args.run.progress = [&progress](const std::string& text) { progress.update(text, true); };
  const RunAnalysis run = analyse_run(args.run);
  if (scan) check_scan_matches(*scan, run.checkpoint_path, run.latent_dim);  // another model's heatmaps otherwise
  Report report = build_report(run, scan.get(), folder.string() + "/");

  progress.update("drawing PNG/SVG figures with gnuplot", true);
  StagedFolder figures(folder.string());
  const FigureFiles files = write_figure_files(all_figures(report), figures.temporary_path());
  for (const auto& note : files.notes) report.sections.front().notes.push_back(note);
  progress.finish();

  AtomicFile json_file(json_path.string());
  json_file.stream() << report_json(run, scan.get(), files, folder.string()).dump(2) << "\n";
  AtomicFile html(out.string());
  html.stream() << report_html(report, plotly);
  // The HTML, the largest, first: when the disk fills up while it is written,
  // the earlier report's JSON and figures stay with the earlier HTML.
  html.commit();
  json_file.commit();
  figures.commit();
  for (const auto& note : files.notes) std::fprintf(stderr, "molearn: warning: %s\n", note.c_str());
  std::printf("wrote %s (%zu sections), %s, and %zu figure files in %s\n", out.c_str(), report.sections.size(),
              json_path.c_str(), files.written.size(), folder.c_str());
}

}  // namespace

void add_report_command(CLI::App& app) {
  auto args = std::make_shared<ReportArgs>();
  CLI::App* cmd = app.add_subcommand(
      "report",
      "Write one self-contained HTML report of a training run (opens offline: plotly.js is inlined): headline "
      "numbers, training curves, reconstruction errors, the latent space, a Ramachandran plot, structure quality "
      "of training frames vs reconstructions vs straight-path midpoints, and scan heatmaps. Also writes the "
      "figures as PNG and SVG (gnuplot) into NAME_figures/ and the headline numbers as NAME.json.");
  cmd->add_option("run", args->run.run_dir, "Output folder of 'molearn train' (log.jsonl, best.ckpt)")->required();
  cmd->add_option("-o,--output", args->output, "The HTML report to write (report.html)")->required();
  cmd->add_option("--data", args->run.dataset, "Dataset to encode (default: the training dataset of the run)");
  cmd->add_option("--scan", args->scan, "Folder written by 'molearn scan' of the checkpoint reported on (heatmaps)");
  cmd->add_option("--checkpoint", args->run.checkpoint, "Which checkpoint of the run: best or last")
      ->capture_default_str()
      ->check(CLI::IsMember({"best", "last"}));
  cmd->add_option("--data-dir", args->run.data_dir,
                  "Folder of the reference tables (rama8000/, dope/); when given they must be there. Default: "
                  "$MOLEARN_DATA, the installed share folder, ../shared/data");
  cmd->add_option("--midpoints", args->run.max_midpoints, "Straight-path midpoints decoded (at most)")
      ->capture_default_str();
  add_threads_option(cmd, args->run.threads, "Threads (0: all cores)");
  cmd->footer(
      "Examples:\n"
      "  molearn report run/ -o report.html\n"
      "  molearn report run/ --scan scan/ -o report.html      # with the heatmaps of 'molearn scan'\n"
      "  molearn report run/ --data other.mlds --checkpoint last --data-dir ../shared/data -o last.html\n"
      "Writes report.html, report.json and report_figures/*.png|svg.");
  cmd->callback([args] { run_report(*args); });
}

}  // namespace molearn::cli
