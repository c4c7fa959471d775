#include "molearn/analysis/latent_scan_torch.hpp"

#include <torch/torch.h>

#include <algorithm>
#include <chrono>

#include "molearn/analysis/dope.hpp"
#include "molearn/analysis/energy_metric_torch.hpp"
#include "molearn/analysis/geometry_quality.hpp"
#include "molearn/analysis/ideal_geometry.hpp"
#include "molearn/analysis/ramachandran.hpp"
#include "molearn/core/error.hpp"
#include "molearn/physics/forcefield_reader.hpp"
#include "molearn/train/autocast_model.hpp"
#include "molearn/train/tensor_dataset.hpp"

namespace molearn {

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

std::string joined(const std::vector<std::string>& names) {
  std::string text;
  for (const auto& n : names) text += (text.empty() ? "" : ", ") + n;
  return text;
}

// Per-structure metrics of the analysis library, by landscape name: what a
// metric needs is loaded once here and shared by every batch.
StructureMetric library_metric(const std::string& name, const Conformers& example,
                               const StructureMetricSettings& settings) {
  const int threads = settings.threads;
  if (name == "dope") {
    auto table = std::make_shared<DopeTable>(DopeTable::load(settings.data_dir));
    return {name, "DOPE units", "dope", false, [table, threads](const Conformers& c) {
              return dope_metrics(c, *table, DopeOptions{}, threads).column("dope");
            }};
  }
  if (name == "rama") {
    auto tables = std::make_shared<RamachandranTables>(RamachandranTables::load(settings.data_dir));
    return {name, "fraction", "rama_favoured_fraction", true, [tables, threads](const Conformers& c) {
              return ramachandran_metrics(c, *tables, threads).column("rama_favoured_fraction");
            }};
  }
  if (name == "geometry") {
    auto ideal = std::make_shared<IdealGeometry>(ideal_geometry(read_forcefield(kDefaultForceField), example));
    return {name, "A", "bond_rms_deviation", false, [ideal, threads](const Conformers& c) {
              return geometry_metrics(c, *ideal, threads).column("bond_rms_deviation");
            }};
  }
  if (name == "energy") {
    EnergyMetricOptions options;
    options.threads = threads;
    auto energy = std::make_shared<ConformerEnergy>(example, options);
    return {name, "kJ/mol", "energy", false,
            [energy](const Conformers& c) { return energy->evaluate(c.xyz, c.frame_count).column("energy"); }};
  }
  throw InputError("landscape '" + name + "' is not available in this build of molearn");
}

torch::Tensor latent_batch(const std::vector<std::vector<double>>& points, std::size_t begin, std::size_t end) {
  const auto dim = static_cast<std::int64_t>(points[begin].size());
  auto z = torch::empty({static_cast<std::int64_t>(end - begin), dim}, torch::kFloat32);
  auto a = z.accessor<float, 2>();
  for (std::size_t p = begin; p < end; ++p)
    for (std::int64_t k = 0; k < dim; ++k)
      a[static_cast<std::int64_t>(p - begin)][k] = static_cast<float>(points[p][static_cast<std::size_t>(k)]);
  return z;
}

void append(std::vector<double>& values, const torch::Tensor& t) {
  const auto d = t.to(torch::kFloat64).contiguous();
  values.insert(values.end(), d.data_ptr<double>(), d.data_ptr<double>() + d.numel());
}

// [B, 3, N] scaled -> frames in Å, [frame][atom][xyz].
void fill_conformers(Conformers& batch, const torch::Tensor& decoded, const CheckpointState& state) {
  const auto xyz = (decoded * state.std + state.mean).permute({0, 2, 1}).contiguous();
  batch.frame_count = static_cast<std::size_t>(xyz.size(0));
  batch.xyz.assign(xyz.data_ptr<float>(), xyz.data_ptr<float>() + xyz.numel());
}

void check_points(const std::vector<std::vector<double>>& points, const CheckpointState& state) {
  const auto dim = static_cast<std::size_t>(state.model.latent_dim);
  for (std::size_t p = 0; p < points.size(); ++p)
    if (points[p].size() != dim)
      throw InputError("latent point " + std::to_string(p) + " has " + std::to_string(points[p].size()) +
                       " values, but the model's latent space has " + std::to_string(dim) + " dimensions");
}

}  // namespace

const std::vector<std::string>& landscape_names() {
  static const std::vector<std::string> names{"error", "drift", "dope", "rama", "energy", "geometry"};
  return names;
}

StructureMetric structure_metric(const std::string& name, const Conformers& example,
                                 const StructureMetricSettings& settings) {
  if (name == "error") return {"error", "A", "reconstruction_rmsd", false, {}};
  if (name == "drift") return {"drift", "latent units", "latent_drift", false, {}};
  const auto& known = landscape_names();
  if (std::find(known.begin(), known.end(), name) == known.end())
    throw InputError("unknown landscape '" + name + "'; known: " + joined(known));
  return library_metric(name, example, settings);
}

std::vector<StructureMetric> available_metrics(const Conformers& example, const StructureMetricSettings& settings,
                                               std::vector<std::string>* skipped) {
  std::vector<StructureMetric> metrics;
  for (const auto& name : landscape_names()) {
    try {
      metrics.push_back(structure_metric(name, example, settings));
    } catch (const Error& e) {
      // Reference data missing, or a topology the metric cannot handle: not
      // a default, but say why.
      if (skipped) skipped->push_back(name + " left out: " + e.what());
    }
  }
  return metrics;
}

std::vector<StructureMetric> structure_metrics(const std::vector<std::string>& names, const Conformers& example,
                                               const StructureMetricSettings& settings) {
  std::vector<StructureMetric> metrics;
  for (const auto& name : names) {
    for (const auto& m : metrics)
      if (m.name == name) throw InputError("landscape '" + name + "' is asked for twice");
    metrics.push_back(structure_metric(name, example, settings));
  }
  return metrics;
}

Conformers conformers_of(const CheckpointState& state, std::vector<float> xyz_angstrom) {
  Conformers c;
  c.topology = state.topology;
  c.termini = state.termini;
  c.frame_count = state.topology.atom_count() ? xyz_angstrom.size() / (3 * state.topology.atom_count()) : 0;
  c.xyz = std::move(xyz_angstrom);
  return c;
}

LatentEvaluation evaluate_latent_points(AutoencoderImpl& model, const CheckpointState& state,
                                        const std::vector<std::vector<double>>& points,
                                        const LatentEvaluationOptions& options) {
  if (options.batch_size == 0) throw InputError("--batch-size must be at least 1");
  check_points(points, state);
  Conformers batch = conformers_of(state);
  const std::vector<StructureMetric>& metrics = options.landscapes;
  LatentEvaluation result;
  for (const auto& m : metrics) result.landscapes.push_back({m.name, m.unit, m.column, m.higher_is_better, {}, 0});
  auto find = [&](const std::string& name) -> LandscapeValues* {
    for (auto& l : result.landscapes)
      if (l.name == name) return &l;
    return nullptr;
  };
  LandscapeValues* drift = find("drift");
  LandscapeValues* error = find("error");

  torch::NoGradGuard no_grad;
  model.eval();
  for (std::size_t begin = 0; begin < points.size(); begin += options.batch_size) {
    const std::size_t end = std::min(points.size(), begin + options.batch_size);
    const auto z = latent_batch(points, begin, end);
    auto start = Clock::now();
    const auto decoded = decode_autocast(model, z, options.bf16);
    result.decode_seconds += seconds_since(start);
    if (drift || error) {
      // Encoding is what drift costs; error needs it too but only pays for
      // it when drift is not asked for.
      start = Clock::now();
      const auto z2 = encode_autocast(model, decoded, options.bf16);
      if (drift) append(drift->values, (z2 - z).to(torch::kFloat64).pow(2).sum(1).sqrt());
      (drift ? drift : error)->seconds += seconds_since(start);
      if (error) {
        start = Clock::now();
        append(error->values, rmsd_angstrom(decoded, decode_autocast(model, z2, options.bf16), state.std));
        error->seconds += seconds_since(start);
      }
    }
    fill_conformers(batch, decoded, state);
    for (std::size_t m = 0; m < metrics.size(); ++m) {
      if (!metrics[m].compute) continue;  // error, drift: done above
      start = Clock::now();
      const auto values = metrics[m].compute(batch);
      if (values.size() != batch.frame_count)
        throw Error("metric '" + metrics[m].name + "' returned " + std::to_string(values.size()) + " values for " +
                    std::to_string(batch.frame_count) + " structures");
      auto& target = result.landscapes[m].values;
      target.insert(target.end(), values.begin(), values.end());
      result.landscapes[m].seconds += seconds_since(start);
    }
    if (options.on_structures) options.on_structures(batch);
    result.points_done = end;
    if (options.on_progress) options.on_progress(end, points.size());
    if (end < points.size() && options.stop_requested && options.stop_requested()) {
      result.interrupted = true;
      break;
    }
  }
  return result;
}

}  // namespace molearn
