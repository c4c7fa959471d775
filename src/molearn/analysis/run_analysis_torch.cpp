#include "molearn/analysis/run_analysis_torch.hpp"

#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>

#include "molearn/analysis/backbone.hpp"
#include "molearn/analysis/dope.hpp"
#include "molearn/analysis/energy_metric_torch.hpp"
#include "molearn/analysis/geometry_quality.hpp"
#include "molearn/analysis/ideal_geometry.hpp"
#include "molearn/analysis/npy_float64.hpp"
#include "molearn/analysis/ramachandran.hpp"
#include "molearn/analysis/rmsd.hpp"
#include "molearn/core/error.hpp"
#include "molearn/core/parallel_for.hpp"
#include "molearn/data/dataset_file.hpp"
#include "molearn/physics/forcefield_reader.hpp"
#include "molearn/train/checkpoint.hpp"
#include "molearn/train/tensor_dataset.hpp"

namespace molearn {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

// Columns that only some runs log. When the record has the first key, each
// column gets the record's value (NaN if absent), after NaN for the earlier
// epochs that lacked it; runs without the key leave the columns empty.
void optional_columns(const json& record, std::size_t epochs,
                      std::initializer_list<std::pair<const char*, std::vector<double>*>> columns) {
  if (!record.contains(columns.begin()->first)) return;
  for (const auto& [key, column] : columns) {
    column->resize(epochs - 1, std::nan(""));
    column->push_back(record.value(key, std::nan("")));
  }
}

}  // namespace

TrainingLog read_training_log(const std::string& path) {
  std::ifstream in(path);
  if (!in)
    throw InputError(path + ": not found; expected the log.jsonl that 'molearn train' writes into its output folder");
  TrainingLog log;
  std::string line;
  for (std::size_t number = 1; std::getline(in, line); ++number) {
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    try {
      const json r = json::parse(line);
      log.epoch.push_back(r.at("epoch").get<double>());
      log.train_loss.push_back(r.at("train_loss").get<double>());
      // Absent for a dataset without validation frames.
      log.valid_loss.push_back(r.value("valid_loss", std::nan("")));
      // Logs written before valid_mse existed: valid_loss is the MSE except
      // in epochs where the physics loss was active.
      const bool loss_is_mse = !r.value("physics_active", false);
      log.valid_mse.push_back(r.value("valid_mse", loss_is_mse ? log.valid_loss.back() : std::nan("")));
      log.valid_rmsd.push_back(r.value("valid_rmsd", std::nan("")));
      // Columns some runs log (physics, the bond metric, the Sinkhorn trainer).
      optional_columns(r, log.epoch.size(), {{"train_energy", &log.train_energy}, {"valid_energy", &log.valid_energy}});
      optional_columns(
          r, log.epoch.size(),
          {{"valid_bond_rmsd", &log.valid_bond_rmsd}, {"valid_stretched_bonds", &log.valid_stretched_bonds}});
      optional_columns(r, log.epoch.size(),
                       {{"train_sinkhorn", &log.train_sinkhorn}, {"valid_sinkhorn", &log.valid_sinkhorn}});
    } catch (const json::exception& e) {
      throw FormatError(path + ": line " + std::to_string(number) +
                        " is not an epoch record of 'molearn train' (JSON with epoch, train_loss and, with "
                        "validation frames, valid_loss and valid_rmsd): " +
                        e.what());
    }
  }
  if (log.epoch.empty()) throw FormatError(path + ": holds no epoch (did the training run complete one?)");
  for (auto* column : {&log.train_energy, &log.valid_energy, &log.valid_bond_rmsd, &log.valid_stretched_bonds,
                       &log.train_sinkhorn, &log.valid_sinkhorn})
    if (!column->empty()) column->resize(log.epoch.size(), std::nan(""));
  return log;
}

namespace {

void say(const RunAnalysisOptions& options, const std::string& text) {
  if (options.progress) options.progress(text);
}

std::string dataset_of(const RunAnalysisOptions& options, const LoadedCheckpoint& loaded) {
  const std::string path = options.dataset.empty() ? loaded.state.dataset_path : options.dataset;
  if (!fs::exists(path))
    throw InputError(
        path + ": dataset not found" +
        (options.dataset.empty() ? " (recorded in the checkpoint as the training dataset; give --data)" : ""));
  return path;
}

// The model only makes sense on the atoms it was trained on, in that order.
void check_same_topology(const Dataset& dataset, const CheckpointState& state, const std::string& path) {
  if (dataset.atom_count() != state.topology.atom_count())
    throw InputError(path + ": has " + std::to_string(dataset.atom_count()) + " atoms, the model was trained on " +
                     std::to_string(state.topology.atom_count()) + " (a dataset of another topology)");
  for (std::size_t i = 0; i < dataset.atom_count(); ++i) {
    const Atom &a = dataset.topology.atom(i), &b = state.topology.atom(i);
    if (a.name != b.name || a.res_name != b.res_name)
      throw InputError(path + ": atom " + std::to_string(i + 1) + " is " + a.res_name + " " + a.name +
                       ", the model was trained on " + b.res_name + " " + b.name + " (a dataset of another topology)");
  }
}

// [F, 3, N] in the checkpoint's scaling.
torch::Tensor model_input(const Dataset& dataset, const CheckpointState& state) {
  const auto coords = to_tensors(dataset).coords;
  if (dataset.mean == state.mean && dataset.std == state.std) return coords;
  return ((coords * dataset.std + dataset.mean) - state.mean) / state.std;
}

// [B, 3, N] scaled -> [B][N][3] in Å.
std::vector<float> to_angstrom(const torch::Tensor& decoded, const CheckpointState& state) {
  const auto xyz = (decoded * state.std + state.mean).permute({0, 2, 1}).contiguous().to(torch::kFloat32);
  return {xyz.data_ptr<float>(), xyz.data_ptr<float>() + xyz.numel()};
}

template <typename F>
torch::Tensor in_chunks(std::int64_t n, F&& f) {
  constexpr std::int64_t kChunk = 16;  // bounded memory for long trajectories
  std::vector<torch::Tensor> parts;
  for (std::int64_t s = 0; s < n; s += kChunk) parts.push_back(f(s, std::min(s + kChunk, n)));
  return torch::cat(parts);
}

Conformers conformers_of(const CheckpointState& state, std::vector<float> xyz) {
  Conformers c;
  c.topology = state.topology;
  c.termini = state.termini;
  c.frame_count = xyz.size() / (3 * state.topology.atom_count());
  c.xyz = std::move(xyz);
  return c;
}

Conformers frames_of(const Dataset& dataset, const CheckpointState& state, const std::vector<std::size_t>& which) {
  std::vector<float> xyz;
  for (std::size_t f : which) {
    const auto frame = dataset.frame_in_angstrom(f);
    xyz.insert(xyz.end(), frame.begin(), frame.end());
  }
  return conformers_of(state, std::move(xyz));
}

// Ramalyze's general class: not Gly, Pro, Ile or Val, and not before a Pro.
void general_phi_psi(StructureGroup& g) {
  const auto backbone = backbone_of(g.conformers);
  for (std::size_t f = 0; f < g.conformers.frame_count; ++f) {
    const auto d = backbone_dihedrals(backbone, g.conformers.frame(f));
    for (std::size_t r = 0; r < backbone.size(); ++r) {
      const std::string& name = backbone[r].res_name;
      const bool pre_pro = backbone[r].bonded_to_next && r + 1 < backbone.size() && backbone[r + 1].res_name == "PRO";
      if (!backbone[r].amino_acid || pre_pro || name == "GLY" || name == "PRO" || name == "ILE" || name == "VAL")
        continue;
      if (!std::isfinite(d.phi[r]) || !std::isfinite(d.psi[r])) continue;
      g.phi.push_back(d.phi[r]);
      g.psi.push_back(d.psi[r]);
    }
  }
}

// A metric family: computes its columns for a group of structures, or says
// why it cannot.
struct MetricFamily {
  MetricStatus status;
  std::function<MetricTable(const Conformers&)> compute;
};

std::string explicit_folder(const RunAnalysisOptions& options, const std::string& sub) {
  return options.data_dir.empty() ? "" : (fs::path(options.data_dir) / sub).string();
}

// The smallest score ramalyze calls `category` (thresholds are not exported;
// categorise() is monotonic in the score).
double threshold_of(const RamachandranTables& t, RamaCategory category) {
  double lo = 1e-9, hi = 1.0;
  for (int i = 0; i < 80; ++i) {
    const double mid = std::sqrt(lo * hi);
    const RamaCategory c = t.categorise(RamaClass::General, mid);
    const bool at_least = c == category || (category == RamaCategory::Allowed && c == RamaCategory::Favoured);
    (at_least ? hi : lo) = mid;
  }
  return hi;
}

RamachandranContours contours_of(const RamachandranTables& t) {
  RamachandranContours c;
  for (int b = 0; b < RamachandranTables::kBins; ++b) c.phi.push_back(-179.0 + 2.0 * b);
  c.psi = c.phi;
  for (double psi : c.psi)
    for (double phi : c.phi)  // 1e-6 resolves the thresholds and keeps the page small
      c.density.push_back(std::round(t.evaluate(RamaClass::General, phi, psi) * 1e6) / 1e6);
  c.allowed = threshold_of(t, RamaCategory::Allowed);
  c.favoured = threshold_of(t, RamaCategory::Favoured);
  return c;
}

MetricFamily ramachandran_family(const RunAnalysisOptions& options, RunAnalysis& run) {
  MetricFamily f{{"ramachandran",
                  "Ramachandran (MolProbity Top8000)",
                  {"rama_favoured_fraction", "rama_outliers"},
                  {"fraction of residues", "residues"},
                  false,
                  ""},
                 {}};
  // A --data-dir given by the user must hold the tables; otherwise they are
  // looked for in the usual places and a missing table is a note on the page.
  std::shared_ptr<RamachandranTables> tables;
  try {
    const std::string folder = explicit_folder(options, "rama8000");
    tables = std::make_shared<RamachandranTables>(folder.empty() ? RamachandranTables::load()
                                                                 : RamachandranTables::load_folder(folder));
  } catch (const InputError& e) {
    if (!options.data_dir.empty()) throw;
    f.status.note = std::string("not available: ") + e.what();
    run.contours_note = f.status.note;
    return f;
  }
  run.contours = contours_of(*tables);
  const int threads = options.threads;
  f.status.available = true;
  f.compute = [tables, threads](const Conformers& c) { return ramachandran_metrics(c, *tables, threads); };
  return f;
}

MetricFamily energy_family(const RunAnalysisOptions& options) {
  MetricFamily f{{"energy", "Force-field energy", {"energy"}, {"kJ/mol"}, true, ""}, {}};
  EnergyMetricOptions energy;
  energy.threads = options.threads;
  f.compute = [energy](const Conformers& c) { return energy_metrics(c, energy); };
  return f;
}

// The ideal geometry depends on the topology only: built once, from the
// first group that has frames.
MetricFamily geometry_family(const RunAnalysisOptions& options) {
  MetricFamily f{{"geometry",
                  "Geometry (deviation from the force field's ideal values)",
                  {"bond_rms_deviation", "angle_rms_deviation", "clashes"},
                  {"Å", "degrees", "atom pairs closer than 3 Å"},
                  true,
                  ""},
                 {}};
  auto ideal = std::make_shared<std::optional<IdealGeometry>>();
  const int threads = options.threads;
  f.compute = [ideal, threads](const Conformers& c) {
    if (!*ideal) *ideal = ideal_geometry(read_forcefield(kDefaultForceField), c);
    return geometry_metrics(c, **ideal, threads);
  };
  return f;
}

MetricFamily dope_family(const RunAnalysisOptions& options) {
  MetricFamily f{{"dope", "DOPE (Shen & Sali 2006)", {"dope"}, {"DOPE score"}, false, ""}, {}};
  std::shared_ptr<DopeTable> table;
  try {
    const std::string file = explicit_folder(options, "dope/dope_score.lib");
    table = std::make_shared<DopeTable>(file.empty() ? DopeTable::load() : DopeTable::load_file(file));
  } catch (const InputError& e) {
    if (!options.data_dir.empty()) throw;
    f.status.note = std::string("not available: ") + e.what();
    return f;
  }
  const int threads = options.threads;
  f.status.available = true;
  f.compute = [table, threads](const Conformers& c) { return dope_metrics(c, *table, DopeOptions{}, threads); };
  return f;
}

std::vector<MetricFamily> metric_families(const RunAnalysisOptions& options, RunAnalysis& run) {
  std::vector<MetricFamily> families;
  families.push_back(geometry_family(options));
  families.push_back(ramachandran_family(options, run));
  families.push_back(dope_family(options));
  families.push_back(energy_family(options));
  return families;
}

// Every available family on every group; a family that fails on a group is
// reported in its note and left out (never half a set of columns).
void compute_metrics(std::vector<MetricFamily>& families, RunAnalysis& run, const RunAnalysisOptions& options) {
  for (MetricFamily& family : families) {
    if (family.status.available) {
      std::vector<MetricTable> tables;
      try {
        for (const StructureGroup& g : run.groups) {
          say(options,
              "metrics: " + family.status.key + " of " + std::to_string(g.conformers.frame_count) + " " + g.label);
          tables.push_back(family.compute(g.conformers));
        }
        for (std::size_t i = 0; i < run.groups.size(); ++i) run.groups[i].metrics.append_columns(tables[i]);
      } catch (const Error& e) {
        family.status.available = false;
        family.status.note = std::string("could not be computed: ") + e.what();
      }
    }
    run.metric_status.push_back(family.status);
  }
}

void encode_and_decode(RunAnalysis& run, const Dataset& dataset, const LoadedCheckpoint& loaded,
                       const RunAnalysisOptions& options) {
  torch::NoGradGuard no_grad;
  const CheckpointState& state = loaded.state;
  const auto x = model_input(dataset, state);
  say(options, "encoding and decoding " + std::to_string(dataset.frame_count) + " frames");
  const auto z = in_chunks(x.size(0), [&](auto s, auto e) { return loaded.model->encode(x.slice(0, s, e)); });
  const auto decoded = in_chunks(z.size(0), [&](auto s, auto e) { return loaded.model->decode(z.slice(0, s, e)); });
  const auto zd = z.to(torch::kFloat64).contiguous();
  for (std::int64_t f = 0; f < zd.size(0); ++f)
    run.latent.emplace_back(zd[f].data_ptr<double>(), zd[f].data_ptr<double>() + zd.size(1));
  const std::vector<float> rec = to_angstrom(decoded, state);
  const std::size_t n = dataset.atom_count() * 3;
  for (std::size_t f = 0; f < dataset.frame_count; ++f) {
    const auto frame = dataset.frame_in_angstrom(f);
    const std::span<const float> decoded_frame(rec.data() + f * n, n);
    run.rmsd.push_back(unfitted_rmsd(frame, decoded_frame));
    run.rmsd_superposed.push_back(qcp_rmsd(frame, decoded_frame));
  }

  std::vector<float> rec_train;
  for (std::size_t f : run.train_indices)
    rec_train.insert(rec_train.end(), rec.begin() + f * n, rec.begin() + (f + 1) * n);

  // Straight-path midpoints: halfway in latent space between consecutive training frames.
  for (std::size_t k = 0; k + 1 < run.train_indices.size() && run.midpoint_pairs.size() < options.max_midpoints; ++k)
    run.midpoint_pairs.emplace_back(run.train_indices[k], run.train_indices[k + 1]);
  std::vector<float> mid;
  if (!run.midpoint_pairs.empty()) {
    say(options, "decoding " + std::to_string(run.midpoint_pairs.size()) + " straight-path midpoints");
    std::vector<std::int64_t> a, b;
    for (auto [i, j] : run.midpoint_pairs) a.push_back(std::int64_t(i)), b.push_back(std::int64_t(j));
    const auto zm = (z.index_select(0, torch::tensor(a)) + z.index_select(0, torch::tensor(b))) / 2;
    mid = to_angstrom(in_chunks(zm.size(0), [&](auto s, auto e) { return loaded.model->decode(zm.slice(0, s, e)); }),
                      state);
  }
  run.groups.push_back({"training", "training frames", frames_of(dataset, state, run.train_indices), {}, {}, {}});
  run.groups.push_back({"reconstructions", "reconstructions", conformers_of(state, std::move(rec_train)), {}, {}, {}});
  run.groups.push_back({"midpoints", "straight-path midpoints", conformers_of(state, std::move(mid)), {}, {}, {}});
}

std::string checkpoint_in(const RunAnalysisOptions& options) {
  if (options.checkpoint != "best" && options.checkpoint != "last")
    throw InputError("--checkpoint takes best or last, not '" + options.checkpoint + "'");
  const std::string path = (fs::path(options.run_dir) / (options.checkpoint + ".ckpt")).string();
  if (!fs::exists(path))
    throw InputError(path + ": not found; expected the " + options.checkpoint +
                     ".ckpt that 'molearn train' writes into its output folder");
  return path;
}

}  // namespace

RunAnalysis analyse_run(const RunAnalysisOptions& options) {
  if (!fs::is_directory(options.run_dir))
    throw InputError(options.run_dir + ": not a folder; expected the output folder of 'molearn train'");
  if (!options.data_dir.empty() && !fs::is_directory(options.data_dir))
    throw InputError(options.data_dir + ": --data-dir is not a folder (expected one holding rama8000/ and dope/)");
  RunAnalysis run;
  run.run_dir = options.run_dir;
  run.log = read_training_log((fs::path(options.run_dir) / "log.jsonl").string());
  run.checkpoint_path = checkpoint_in(options);
  run.checkpoint_kind = options.checkpoint;
  torch::set_num_threads(resolve_thread_count(options.threads));
  say(options, "loading " + run.checkpoint_path);
  const LoadedCheckpoint loaded = load_checkpoint(run.checkpoint_path);
  run.checkpoint_epoch = loaded.state.epoch;
  run.best_epoch = loaded.state.best_epoch;
  run.model_kind = loaded.state.model.architecture;
  run.latent_dim = int(loaded.state.model.latent_dim);
  run.dataset_path = dataset_of(options, loaded);
  const Dataset dataset = read_dataset(run.dataset_path);
  check_same_topology(dataset, loaded.state, run.dataset_path);
  run.atoms = dataset.atom_count();
  run.residues = dataset.topology.residue_count();
  run.frames = dataset.frame_count;
  run.train_indices = dataset.train_indices;
  run.valid_indices = dataset.valid_indices;
  // Tables first: a --data-dir without them fails before the long work.
  auto families = metric_families(options, run);
  encode_and_decode(run, dataset, loaded, options);
  for (StructureGroup& g : run.groups) general_phi_psi(g);
  compute_metrics(families, run, options);
  return run;
}

}  // namespace molearn
