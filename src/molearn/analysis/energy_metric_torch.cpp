#include "molearn/analysis/energy_metric_torch.hpp"

#include <OpenMM.h>
#include <torch/torch.h>

#include <cmath>
#include <limits>
#include <set>

#include "molearn/core/error.hpp"
#include "molearn/core/parallel_for.hpp"
#include "molearn/physics/energy_evaluator.hpp"
#include "molearn/physics/structure_matching.hpp"
#include "molearn/physics/torch_forcefield.hpp"

namespace molearn {

EnergyEngine parse_energy_engine(const std::string& name) {
  if (name == "auto") return EnergyEngine::Auto;
  if (name == "torch") return EnergyEngine::Torch;
  if (name == "openmm") return EnergyEngine::OpenMM;
  throw InputError("unknown energy engine '" + name + "' (expected auto, torch or openmm)");
}

const char* energy_engine_name(EnergyEngine engine) {
  switch (engine) {
    case EnergyEngine::Auto:
      return "auto";
    case EnergyEngine::Torch:
      return "torch";
    case EnergyEngine::OpenMM:
      return "openmm";
  }
  return "?";
}

namespace {

constexpr double kNanometresPerAngstrom = 0.1;
constexpr std::size_t kTorchChunk = 64;  // frames per batched evaluation: bounded memory
const double kNaN = std::numeric_limits<double>::quiet_NaN();

}  // namespace

struct ConformerEnergy::Engines {
  std::unique_ptr<TorchForceField> torch;
  std::vector<std::unique_ptr<EnergyEvaluator>> openmm;  // one per thread
};

ConformerEnergy::ConformerEnergy(const Conformers& conformers, const EnergyMetricOptions& options)
    : ff_(read_forcefield(options.forcefield)), engines_(std::make_unique<Engines>()) {
  if (conformers.frame_count == 0) throw InputError("energy: no frames to score");
  const std::optional<std::string> atoms = options.atoms.empty() ? atom_names_without_hydrogens(conformers.topology)
                                                                 : std::optional<std::string>(options.atoms);
  try {
    matched_ = match_structure(ff_, conformers.topology, conformers.frame(0), atoms, conformers.termini);
  } catch (const InputError& e) {  // residues that fit no template: say which file they are in
    if (conformers.source.empty()) throw;
    throw InputError(conformers.source + ": " + e.what());
  }
  system_options_.nonbonded =
      parse_nonbonded_model(options.nonbonded.empty() ? (matched_.reduced ? "soft" : "full") : options.nonbonded);
  system_options_.implicit_obc2 = options.implicit_obc2;
  system_options_.nonbonded_cutoff_nm = options.cutoff_nm;
  source_atoms_ = matched_.source_atoms();
  threads_ = resolve_thread_count(options.threads);
  // One System: its force groups name the columns, and the engine takes it
  // (OpenMM needs one more per extra thread, each Context owning its own).
  std::unique_ptr<OpenMM::System> system = build_system(ff_, matched_, system_options_);
  std::set<int> groups;
  for (int i = 0; i < system->getNumForces(); ++i) groups.insert(system->getForce(i).getForceGroup());
  for (int g : groups) groups_.push_back(force_group_name(g));
  const bool torch_models_it =
      !options.implicit_obc2 && !ff_.implicit_obc2 && !ff_.obc.present && options.cutoff_nm == 0;
  engine_ = options.engine == EnergyEngine::Auto ? (torch_models_it ? EnergyEngine::Torch : EnergyEngine::OpenMM)
                                                 : options.engine;
  if (engine_ == EnergyEngine::Torch) {
    if (!torch_models_it)
      throw InputError(
          "the torch energy engine models neither implicit solvent nor cutoffs; use --engine openmm (or auto)");
    // float32: every bonded and soft-core term is positive, so nothing
    // cancels and float32 agrees with OpenMM's double precision to ~1e-6
    // (torch_forcefield.hpp); Coulomb + Lennard-Jones are summed in double
    // whatever this says.
    TorchForceFieldOptions torch_options;
    torch_options.dtype = torch::kFloat;
    engines_->torch = std::make_unique<TorchForceField>(*system, CoordinateScale{}, torch_options);
  } else {
    engines_->openmm.push_back(std::make_unique<EnergyEvaluator>(std::move(system), options.platform));
    for (int t = 1; t < threads_; ++t)
      engines_->openmm.push_back(
          std::make_unique<EnergyEvaluator>(build_system(ff_, matched_, system_options_), options.platform));
  }
}

ConformerEnergy::~ConformerEnergy() = default;

std::string ConformerEnergy::platform() const {
  return engine_ == EnergyEngine::Torch ? "libtorch, float32 (Coulomb/LJ in double)"
                                        : engines_->openmm.front()->platform();
}

MetricTable ConformerEnergy::evaluate(std::span<const float> frames_xyz, std::size_t frames,
                                      std::vector<double>* forces) {
  const std::size_t atoms = frames ? frames_xyz.size() / frames / 3 : 0;
  const std::size_t n = source_atoms_.size();
  MetricTable table{{"energy"}, {}};
  for (const std::string& g : groups_) table.columns.push_back("energy_" + g);
  table.rows.assign(frames, std::vector<double>(table.columns.size(), kNaN));
  if (forces) forces->assign(frames * n * 3, kNaN);
  // The system's atoms of frame f, times `unit` (nm for torch, Å for
  // OpenMM's evaluator), and whether they are all finite.
  auto system_xyz = [&](std::size_t f, double* out, double unit) {
    const float* in = frames_xyz.data() + f * atoms * 3;
    bool finite = true;
    for (std::size_t i = 0; i < n; ++i)
      for (int k = 0; k < 3; ++k) {
        const float v = in[3 * source_atoms_[i] + k];
        finite = finite && std::isfinite(v);
        out[3 * i + k] = finite ? v * unit : 0.0;
      }
    return finite;
  };

  if (engine_ == EnergyEngine::Torch) {
    torch::set_num_threads(threads_);
    for (std::size_t start = 0; start < frames; start += kTorchChunk) {
      const std::size_t count = std::min(kTorchChunk, frames - start);
      torch::Tensor xyz =
          torch::empty({static_cast<std::int64_t>(count), static_cast<std::int64_t>(n), 3}, torch::kDouble);
      std::vector<bool> finite(count);
      for (std::size_t b = 0; b < count; ++b)
        finite[b] = system_xyz(start + b, xyz.data_ptr<double>() + b * n * 3, kNanometresPerAngstrom);
      TorchEnergyTerms terms;
      {
        torch::NoGradGuard no_grad;
        terms = engines_->torch->terms(xyz);
      }
      // Total first, then the groups the system has, as OpenMM reports them.
      std::vector<torch::Tensor> columns = {terms.total()};
      for (const std::string& g : groups_)
        columns.push_back(g == "bond"      ? terms.bond
                          : g == "angle"   ? terms.angle
                          : g == "torsion" ? terms.torsion
                                           : terms.nonbonded);
      const torch::Tensor parts = torch::stack(columns, 1).to(torch::kDouble).contiguous();
      const std::size_t width = columns.size();
      torch::Tensor frame_forces;
      if (forces) frame_forces = engines_->torch->energies_and_forces(xyz).second.contiguous();
      for (std::size_t b = 0; b < count; ++b) {
        if (!finite[b]) continue;
        const double* p = parts.data_ptr<double>() + b * width;
        for (std::size_t c = 0; c < width; ++c) table.rows[start + b][c] = std::isfinite(p[0]) ? p[c] : kNaN;
        if (forces && std::isfinite(p[0]))
          std::copy_n(frame_forces.data_ptr<double>() + b * n * 3, n * 3, forces->data() + (start + b) * n * 3);
      }
    }
    return table;
  }

  const std::size_t workers = engines_->openmm.size();
  parallel_for(workers, static_cast<int>(workers), [&](std::size_t first_worker, std::size_t last_worker) {
    std::vector<double> xyz_angstrom(n * 3);
    for (std::size_t w = first_worker; w < last_worker; ++w) {
      EnergyEvaluator& evaluator = *engines_->openmm[w];
      for (std::size_t f = frames * w / workers; f < frames * (w + 1) / workers; ++f) {
        if (!system_xyz(f, xyz_angstrom.data(), 1.0)) continue;
        const EnergyResult e = evaluator.evaluate(std::span<const double>(xyz_angstrom), forces != nullptr);
        if (!e.energies_finite()) continue;
        std::vector<double>& row = table.rows[f];
        row[0] = e.total;
        for (std::size_t g = 0; g < e.groups.size() && g + 1 < row.size(); ++g) row[g + 1] = e.groups[g].energy;
        if (forces) std::copy(e.forces.begin(), e.forces.end(), forces->begin() + f * n * 3);
      }
    }
  });
  return table;
}

MetricTable energy_metrics(const Conformers& conformers, const EnergyMetricOptions& options) {
  ConformerEnergy energy(conformers, options);
  return energy.evaluate(conformers.xyz, conformers.frame_count);
}

}  // namespace molearn
