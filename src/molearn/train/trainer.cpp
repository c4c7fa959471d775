#include "molearn/train/trainer.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <functional>
#include <random>
#include <set>
#include <sstream>
#include <thread>
#include <tuple>

#include "molearn/core/atomic_file.hpp"
#include "molearn/core/error.hpp"
#include "molearn/core/random.hpp"
#include "molearn/data/dataset_file.hpp"
#include "molearn/models/architecture_options.hpp"
#include "molearn/models/batch_norm.hpp"
#include "molearn/physics/forcefield_reader.hpp"
#include "molearn/train/autocast_model.hpp"
#include "molearn/train/checkpoint.hpp"
#include "molearn/train/distributed.hpp"
#include "molearn/train/eval_mode_scope.hpp"
#include "molearn/train/geometry_loss_torch.hpp"
#include "molearn/train/interpolation_energy.hpp"
#include "molearn/train/loss_terms.hpp"
#include "molearn/train/precision.hpp"
#include "molearn/train/sinkhorn_training.hpp"
#include "molearn/train/tensor_dataset.hpp"

namespace molearn {

nlohmann::json EpochRecord::to_json() const {
  nlohmann::json j = {{"epoch", epoch},
                      {"train_loss", train_loss},
                      {"seconds", seconds},
                      {"frames_per_second", frames_per_second},
                      {"improved", improved}};
  if (std::isfinite(valid_loss)) {  // absent, not invented, for a dataset without validation frames
    j["valid_mse"] = valid_mse;
    j["valid_loss"] = valid_loss;
    j["valid_rmsd"] = valid_rmsd;
  }
  if (train_energy != 0 || valid_energy != 0) {
    j["physics_active"] = physics_active;
    j["train_energy"] = train_energy;
    j["valid_energy"] = valid_energy;
    j["physics_scale"] = physics_scale;
  }
  if (std::isfinite(valid_bond_rmsd)) {
    j["valid_bond_rmsd"] = valid_bond_rmsd;
    j["valid_stretched_bonds"] = valid_stretched_bonds;
  }
  if (std::isfinite(train_sinkhorn)) j["train_sinkhorn"] = train_sinkhorn;
  if (std::isfinite(valid_sinkhorn)) j["valid_sinkhorn"] = valid_sinkhorn;
  if (selection_by_physics) j["selection_by_physics"] = true;
  for (const auto& [name, value] : loss_terms) j["train_" + name] = value;
  return j;
}

namespace {

using Clock = std::chrono::steady_clock;

std::string rng_to_string(const std::mt19937_64& rng) {
  std::ostringstream out;
  out << rng;
  return out.str();
}

void rng_from_string(std::mt19937_64& rng, const std::string& text) {
  std::istringstream in(text);
  in >> rng;
}

void check_options(const TrainOptions& o) {
  if (o.max_epochs < 1) throw InputError("--epochs must be at least 1");
  if (o.batch_size < 1) throw InputError("--batch-size must be at least 1");
  if (!(o.learning_rate > 0)) throw InputError("--lr must be positive");
  if (o.weight_decay < 0) throw InputError("--weight-decay must not be negative");
  if (o.patience < 0) throw InputError("--patience must not be negative");
  if (!std::isfinite(o.learning_rate)) throw InputError("--lr must be a finite number");
  if (!std::isfinite(o.weight_decay)) throw InputError("--weight-decay must be a finite number");
  if (o.threads < 0) throw InputError("--threads must not be negative (0: every core)");
  const PhysicsOptions& p = o.physics;
  if (!std::isfinite(p.scale) || p.scale < 0)
    throw InputError("--physics-scale must be a finite number >= 0, got " + std::to_string(p.scale));
  if (!std::isfinite(p.weight) || p.weight < 0)
    throw InputError("--physics-weight must be a finite number >= 0 (0: adaptive --physics-scale), got " +
                     std::to_string(p.weight));
  if (p.start_epoch < 0) throw InputError("--physics-start must not be negative, got " + std::to_string(p.start_epoch));
  if (o.trainer != "autoencoder" && o.trainer != "sinkhorn")
    throw InputError("--trainer must be autoencoder or sinkhorn, got '" + o.trainer + "'");
  if (o.trainer == "sinkhorn") {
    o.sinkhorn.check();
    // The divergence of a batch is not the sum of its slices' divergences:
    // data-parallel training needs the decoded samples gathered from every
    // rank first, which is not written yet.
    if (o.distributed.world_size > 1)
      throw InputError("--trainer sinkhorn does not run data-parallel yet (--world-size " +
                       std::to_string(o.distributed.world_size) + "); train it in one process");
    // The geometry terms compare a reconstruction with its input; the
    // Sinkhorn trainer's decoder makes samples that have no input to match.
    if (o.geometry.enabled() || !o.loss_terms.empty())
      throw InputError(
          "--trainer sinkhorn does not take geometry loss terms (--bonded-weight, --local-weight, "
          "--nonlocal-weight, --dihedral-weight) or extra loss terms yet: they compare a reconstruction with its "
          "input, and the Sinkhorn trainer's decoder makes samples without one");
  }
  for (const auto& [name, weight] : o.loss_terms)
    if (!std::isfinite(weight) || weight < 0)
      throw InputError("loss term '" + name + "': the weight must be a finite number >= 0, got " +
                       std::to_string(weight));
  const DistributedOptions& d = o.distributed;
  if (d.world_size < 1)
    throw InputError("--world-size (or WORLD_SIZE) must be at least 1, got " + std::to_string(d.world_size));
  if (d.rank < 0 || d.rank >= d.world_size)
    throw InputError("distributed training: rank " + std::to_string(d.rank) + " is not in [0, world size " +
                     std::to_string(d.world_size) + ") (--rank, --world-size or RANK, WORLD_SIZE)");
}

// A folder that exists but cannot be written to (read-only, another user's)
// would fail only when the first checkpoint is written, after an epoch of
// work: try a file now.
void check_folder_is_writable(const std::string& folder) {
  const auto probe = std::filesystem::path(folder) / ".molearn-write-test";
  {
    std::ofstream out(probe);
    if (!out || !(out << "x") || !out.flush())
      throw OutputError(folder + ": cannot write into the output folder (read-only or no permission)");
  }
  std::error_code ec;
  std::filesystem::remove(probe, ec);
}

// Everything one run needs, built once.
struct Run {
  // The metadata only: the coordinates are loaded or streamed by load_frames().
  Run(const TrainOptions& o, const TrainObserver& obs)
      : options(o), observer(obs), dataset(read_dataset_metadata(o.dataset, data_section)) {}

  const TrainOptions& options;
  const TrainObserver& observer;
  DatasetDataSection data_section;  // where the file's coordinates are (set by the constructor)
  Dataset dataset;                  // metadata; its coords are empty (the frames are in `tensors`)
  Dataset first_frame;              // the metadata with frame 0: what the force-field and geometry set-up read
  TensorDataset tensors;
  Autoencoder model;
  std::unique_ptr<torch::optim::AdamW> optimizer;
  CheckpointState state;
  std::mt19937_64 rng;
  std::string best_path, last_path, log_path;
  std::unique_ptr<Communicator> communicator;     // null when training in one process
  bool bf16 = false;                              // --precision bf16: autocast around the model in training
  std::unique_ptr<InterpolationPhysics> physics;  // null without --physics
  std::unique_ptr<GeometryLoss> geometry;         // null when the dataset's bonds are unknown
  std::unique_ptr<SinkhornTraining> sinkhorn;     // --trainer sinkhorn; null for the autoencoder trainer
  std::set<std::string> geometry_terms;           // names among loss_terms that --geometry-start delays
  // The extra loss terms with their weights, and their sums over the epoch.
  std::vector<std::tuple<std::string, double, LossTerm>> loss_terms;
  std::map<std::string, double> loss_term_sums;
  double sinkhorn_sum = 0;  // --trainer sinkhorn: the training batches' divergences this epoch
  std::size_t batches_per_epoch = 0;

  bool is_main() const { return !communicator || communicator->rank() == 0; }
  int rank() const { return communicator ? communicator->rank() : 0; }
  int world_size() const { return communicator ? communicator->world_size() : 1; }

  void message(const std::string& text) const {
    if (observer.on_message && is_main()) observer.on_message(text);
  }
  bool stop_requested() const { return observer.stop_requested && observer.stop_requested->load(); }
};

void write_log(const Run& run) {
  AtomicFile log(run.log_path);
  for (const auto& record : run.state.history) log.stream() << record.dump() << '\n';
  log.commit();
}

// Start and end (in the epoch's order) of each batch. A last batch of a
// single structure, or smaller than the number of processes, joins the
// previous one: batch normalisation needs two values per channel (FoldingNet's
// first decoder stage has a single point for proteins under 128 atoms), and
// every process needs at least one structure.
std::vector<std::pair<std::size_t, std::size_t>> batch_bounds(std::size_t frames, std::size_t batch,
                                                              std::size_t ranks) {
  std::vector<std::pair<std::size_t, std::size_t>> bounds;
  for (std::size_t first = 0; first < frames; first += batch)
    bounds.emplace_back(first, std::min(frames, first + batch));
  if (bounds.size() > 1 && bounds.back().second - bounds.back().first < std::max<std::size_t>(2, ranks)) {
    bounds[bounds.size() - 2].second = bounds.back().second;
    bounds.pop_back();
  }
  return bounds;
}

// Averages gradients over processes: each process's loss was weighted by its
// share of the global batch, so the sum is the gradient of the global mean.
void sum_gradients(Run& run) {
  std::vector<torch::Tensor> grads;
  for (auto& p : run.model->parameters())
    if (p.grad().defined()) grads.push_back(p.grad());
  run.communicator->allreduce_sum(grads);
}

// The weighted sum of the registered loss terms the options ask for; each
// term's value is added to the epoch's sums for the log.
torch::Tensor extra_loss(Run& run, const torch::Tensor& x, const torch::Tensor& reconstruction, const torch::Tensor& z,
                         int epoch) {
  const LossInputs inputs{x, reconstruction, z, run.dataset.std};
  torch::Tensor total = torch::zeros({}, x.options());
  for (const auto& [name, weight, term] : run.loss_terms) {
    // Geometry terms before --geometry-start are only logged.
    const bool logged_only = run.geometry_terms.count(name) && epoch < run.options.geometry.start_epoch;
    std::optional<torch::NoGradGuard> no_grad;
    if (logged_only) no_grad.emplace();
    const torch::Tensor value = term(inputs);
    if (value.numel() != 1) throw InputError("loss term '" + name + "' must return a scalar");
    run.loss_term_sums[name] += value.item<double>();
    if (!logged_only) total = total + weight * value.reshape({});
  }
  return total;
}

// The model in training, in the run's precision; what leaves it is fp32
// (losses, latent interpolation and physics are computed in fp32).
torch::Tensor encode(Run& run, const torch::Tensor& x) { return encode_autocast(*run.model, x, run.bf16); }

torch::Tensor decode(Run& run, const torch::Tensor& z) { return decode_autocast(*run.model, z, run.bf16); }

// The model's decode in the run's precision, for the Sinkhorn divergence.
InterpolationPhysics::Decoder training_decoder(Run& run) {
  return [&run](const torch::Tensor& z) { return decode(run, z); };
}

// The model's decode for the physics term: fp32 under --precision bf16 too.
// The energy is translation invariant, so its gradient is a sum of large
// opposite forces (a clash pushes two atoms apart) whose total over the atoms
// is zero. Back through bf16 activations and gradients, the sums over the
// atoms that a folding layer's code reaches cancel only to bf16's three
// digits: on 2MI7 the energy gradient of the decoder's first layer was mostly
// rounding noise (cosine 0.49 with fp32's), Adam turned the noise into full
// steps, and the model fell apart within 4 epochs of physics (validation RMSD
// 1.7 -> 71 A). The reconstruction loss has no such cancellation (cosine
// 0.998), so it keeps bf16's speed (bench/README.md, "bf16 accuracy").
InterpolationPhysics::Decoder physics_decoder(Run& run) {
  return [&run](const torch::Tensor& z) { return decode_autocast(*run.model, z, /*bf16=*/false); };
}

struct BatchLoss {
  torch::Tensor loss;  // what backward() is called on (this rank's share)
  torch::Tensor mse;   // the reconstruction MSE, for the log
};

// The autoencoder trainer: reconstruction MSE, plus the physics and
// geometry terms asked for.
BatchLoss autoencoder_loss(Run& run, const torch::Tensor& x, int epoch) {
  const auto z = encode(run, x);
  const auto reconstruction = decode(run, z);
  const auto mse = torch::mse_loss(reconstruction, x);
  auto loss = run.physics ? mse + run.physics->batch_term(*run.model, physics_decoder(run), z, mse, epoch) : mse;
  if (!run.loss_terms.empty()) loss = loss + extra_loss(run, x, reconstruction, z, epoch);
  return {loss, mse};
}

// The Sinkhorn trainer (train/sinkhorn_training.hpp): the decoder is pulled
// to the data from prior samples, the physics term scores structures between
// those samples (Python molearn's), and the encoder learns to invert the
// decoder. `prior` holds one latent sample per frame of the batch.
BatchLoss sinkhorn_loss(Run& run, const torch::Tensor& x, const torch::Tensor& prior, int epoch) {
  const auto divergence = run.sinkhorn->divergence(training_decoder(run), prior, x);
  run.sinkhorn_sum += divergence.item<double>();
  // The encoder inverts the decoder as `scan`, `path` and `generate` use it:
  // in eval mode, with batch statistics of prior samples; that pass must
  // not mix the statistics of encoded codes into them either.
  const auto eval_decode = [&run](const torch::Tensor& z) {
    const EvalModeScope eval_mode(*run.model);
    return decode(run, z);
  };
  const auto fit = run.sinkhorn->encoder_fit([&run](const torch::Tensor& t) { return encode(run, t); }, eval_decode, x);
  auto loss = divergence + fit.surrogate;
  if (run.physics) loss = loss + run.physics->batch_term(*run.model, physics_decoder(run), prior, divergence, epoch);
  return {loss, fit.mse};
}

// One pass over the training set in a fresh seeded order. With several
// processes, every process draws the same order and takes its slice of each
// batch. Returns the mean loss, or nullopt if interrupted.
std::optional<double> train_epoch(Run& run, int epoch, Clock::time_point run_start, int epochs_this_run) {
  run.model->train();
  const auto& train = run.dataset.train_indices;
  const auto order = seeded_permutation(train.size(), run.rng);
  const auto ranks = static_cast<std::size_t>(run.world_size());
  const auto bounds = batch_bounds(order.size(), static_cast<std::size_t>(run.options.batch_size), ranks);
  const std::size_t batches = bounds.size();
  run.batches_per_epoch = batches;
  double loss_sum = 0;
  std::size_t frames = 0;
  for (std::size_t b = 0; b < batches; ++b) {
    if (run.stop_requested()) return std::nullopt;
    const auto [first, last] = bounds[b];
    const std::size_t global = last - first;
    const std::size_t r = static_cast<std::size_t>(run.rank());
    const std::size_t mine_first = first + global * r / ranks, mine_last = first + global * (r + 1) / ranks;
    std::vector<std::int64_t> rows;
    for (std::size_t i = mine_first; i < mine_last; ++i) rows.push_back(static_cast<std::int64_t>(train[order[i]]));
    const auto x = run.tensors.frames(torch::tensor(rows, torch::kInt64));
    // As many prior samples as frames (the Sinkhorn trainer runs in one process).
    const auto prior =
        run.sinkhorn ? run.sinkhorn->prior_sample(run.rng, static_cast<std::int64_t>(global)) : torch::Tensor();
    run.optimizer->zero_grad();
    const auto [local_loss, mse] = run.sinkhorn ? sinkhorn_loss(run, x, prior, epoch) : autoencoder_loss(run, x, epoch);
    const double share = static_cast<double>(rows.size()) / static_cast<double>(global);
    const auto loss = run.communicator ? local_loss * share : local_loss;
    double value = mse.item<double>();
    if (run.communicator) {
      std::vector<torch::Tensor> total{torch::full({1}, value * share, torch::kFloat64)};
      run.communicator->allreduce_sum(total);
      value = total[0].item<double>();
    }
    // The value checked: the MSE, and the Sinkhorn trainer's own loss (one process).
    double checked = value;
    if (std::isfinite(checked) && run.sinkhorn) checked = local_loss.item<double>();
    if (!std::isfinite(checked))
      throw TrainingDivergedError("epoch " + std::to_string(epoch) + ", batch " + std::to_string(b + 1) +
                                  ": the loss is not finite (" + std::to_string(checked) + "); stopped. " +
                                  (run.state.epoch > 0 ? "The last good checkpoint is kept: " + run.last_path
                                                       : std::string("No checkpoint was written.")) +
                                  " (try a lower --lr)");
    loss.backward();
    if (run.communicator) sum_gradients(run);
    run.optimizer->step();
    loss_sum += value * static_cast<double>(global);
    frames += global;
    if (run.observer.on_batch && run.is_main()) {
      const double elapsed = std::chrono::duration<double>(Clock::now() - run_start).count();
      const double done = (epochs_this_run - 1) + static_cast<double>(b + 1) / batches;
      const double remaining = (run.options.max_epochs - epoch) + 1.0 - static_cast<double>(b + 1) / batches;
      run.observer.on_batch({epoch, run.options.max_epochs, b + 1, batches, loss_sum / frames,
                             done > 0 ? elapsed / done * remaining : 0.0});
    }
  }
  return loss_sum / static_cast<double>(frames);
}

struct Validation {
  double mse = 0;
  double rmsd = 0;  // Å
  double bond_rmsd = std::nan("");
  double stretched_bonds = std::nan("");  // percent
  double sinkhorn = std::nan("");         // --trainer sinkhorn: decoded prior samples against the frames
};

// The Sinkhorn trainer's validation divergence, against an evenly spread
// subset of at most SinkhornTraining::kMaxValidationFrames frames.
double validation_divergence(Run& run) {
  auto rows = run.tensors.valid_indices;
  const std::int64_t n = rows.size(0), most = SinkhornTraining::kMaxValidationFrames;
  if (n > most)
    rows = rows.index_select(0, torch::linspace(0, static_cast<double>(n - 1), most).round().to(torch::kInt64));
  return run.sinkhorn->validation_divergence([&run](const torch::Tensor& z) { return run.model->decode(z); },
                                             run.tensors.frames(rows), run.options.batch_size);
}

// Validation in eval mode: BatchNorm uses (and does not update) its running
// statistics. Means over the validation structures.
Validation validate(Run& run) {
  run.model->eval();
  torch::NoGradGuard no_grad;
  const auto valid = run.tensors.valid_indices;
  if (valid.size(0) == 0) return {std::nan(""), std::nan("")};
  const bool bonds = run.geometry && run.geometry->has_bonds();
  double mse_sum = 0, rmsd_sum = 0, bond_sum = 0, stretched_sum = 0;
  const std::int64_t n = valid.size(0);
  for (std::int64_t first = 0; first < n; first += run.options.batch_size) {
    const auto rows = valid.slice(0, first, std::min<std::int64_t>(n, first + run.options.batch_size));
    const auto x = run.tensors.frames(rows);
    const auto out = run.model->forward(x);
    mse_sum += torch::mse_loss(out, x).item<double>() * static_cast<double>(rows.size(0));
    rmsd_sum += rmsd_angstrom(out, x, run.dataset.std).sum().item<double>();
    if (bonds) {
      const auto [rms, stretched] = run.geometry->bond_deviation(out);
      bond_sum += rms.sum().item<double>();
      stretched_sum += stretched.sum().item<double>();
    }
  }
  const double frames = static_cast<double>(n);
  Validation v{mse_sum / frames, rmsd_sum / frames};
  if (bonds) {
    v.bond_rmsd = bond_sum / frames;
    v.stretched_bonds = 100.0 * stretched_sum / (frames * static_cast<double>(run.geometry->bond_count()));
  }
  if (run.sinkhorn) v.sinkhorn = validation_divergence(run);
  return v;
}

// Datasets whose coordinates take more than this are read from the file a
// batch at a time (`--data-access auto`): a large dataset then needs memory
// for a batch, not for all its frames; below it, memory is cheap and reading
// once is simpler. Both give exactly the same frames.
constexpr std::uint64_t kStreamAboveBytes = std::uint64_t{256} << 20;

void load_frames(Run& run) {
  const std::string& path = run.options.dataset;
  const std::uint64_t bytes = run.dataset.frame_count * run.dataset.atom_count() * 3 * sizeof(float);
  const std::string& access = run.options.data_access;
  if (access != "auto" && access != "memory" && access != "stream")
    throw InputError("--data-access must be auto, memory or stream, got '" + access + "'");
  const bool stream = access == "stream" || (access == "auto" && bytes > kStreamAboveBytes);
  // Where each frame came from is not needed here: 16 bytes a frame freed.
  std::vector<FrameOrigin>().swap(run.dataset.origins);
  // Field by field: a copy of the whole metadata would copy its per-frame lists.
  Dataset& first_frame = run.first_frame;
  first_frame.topology = run.dataset.topology;
  first_frame.termini = run.dataset.termini;
  first_frame.frame_count = 1;
  first_frame.coords.resize(run.dataset.atom_count() * 3);
  first_frame.mean = run.dataset.mean;
  first_frame.std = run.dataset.std;
  first_frame.sources = run.dataset.sources;
  first_frame.topology_source = run.dataset.topology_source;
  first_frame.settings = run.dataset.settings;
  if (stream) {
    run.message("data: " + std::to_string(bytes >> 20) + " MiB of coordinates, read from " + path +
                " a batch at a time");
    run.tensors = stream_tensors(path, run.dataset, run.data_section);
    const std::size_t first = 0;
    run.tensors.reader->read({&first, 1}, run.first_frame.coords.data());
  } else {
    const Dataset all = read_dataset(path);
    run.tensors = to_tensors(all);  // a copy: `all` and its coordinates go at the end of this scope
    std::copy_n(all.coords.begin(), run.first_frame.coords.size(), run.first_frame.coords.begin());
  }
}

// The geometry terms the options ask for, and the bond metric of every
// epoch. The metric needs the force field's templates; a dataset they do not
// fit (a ligand, a CA-only selection) trains without it, unless a term that
// needs it was asked for.
void set_up_geometry(Run& run) {
  const GeometryLossOptions& g = run.options.geometry;
  std::optional<ForceField> ff;
  try {
    ff = read_forcefield(run.options.physics.forcefield.empty() ? kDefaultForceField : run.options.physics.forcefield);
    run.geometry = std::make_unique<GeometryLoss>(run.first_frame, g, &*ff, run.options.seed);
  } catch (const InputError& e) {
    GeometryLossOptions without_bonds = g;
    if (g.bonded_weight > 0) {
      if (!g.bonded_by_default) throw;
      without_bonds.bonded_weight = 0;
      if (run.state.options.contains("geometry")) run.state.options["geometry"]["bonded_weight"] = 0.0;
      run.message("note: the default bonded term is left out: " + std::string(e.what()));
    }
    if (without_bonds.enabled())
      run.geometry = std::make_unique<GeometryLoss>(run.first_frame, without_bonds, nullptr, run.options.seed);
    run.message(std::string("note: no bond-length metric for this dataset: ") + e.what());
  }
  if (!run.geometry) return;
  for (auto& term : run.geometry->terms()) {
    run.message("geometry loss " + std::get<0>(term) + " with weight " + std::to_string(std::get<1>(term)) +
                (g.start_epoch > 1 ? ", in the loss from epoch " + std::to_string(g.start_epoch) : std::string()));
    run.geometry_terms.insert(std::get<0>(term));
    run.loss_terms.push_back(std::move(term));
  }
}

void start_fresh(Run& run) {
  run.state.model = run.options.model;
  // Models that encode atom identity (siren) read the names from the config.
  for (const auto& atom : run.dataset.topology.atoms()) run.state.model.atom_names.push_back(atom.name);
  run.state.options = run.options.to_json();
  // Absolute, so that `generate --interpolate` and the analysis find the
  // dataset from any folder (--data overrides it).
  run.state.dataset_path = std::filesystem::absolute(run.options.dataset).lexically_normal().string();
  run.state.mean = run.dataset.mean;
  run.state.std = run.dataset.std;
  run.state.topology = run.dataset.topology;
  run.state.termini = run.dataset.termini;
  run.rng.seed(run.options.seed);
  torch::manual_seed(run.options.seed);
  run.model = make_autoencoder(run.state.model);
  // A training frame, never a validation one: a model that keeps it
  // (cnn2d-dm's reference) must not have seen the frames it is judged on.
  run.model->initialise_with_example(run.tensors.frames(run.tensors.train_indices.slice(0, 0, 1)));
  const bool aligned = run.dataset.settings.is_object() && run.dataset.settings.value("align", false);
  if (run.model->needs_aligned_frames() && !aligned)
    run.message("warning: " + run.options.dataset + " was prepared without --align, and " +
                run.state.model.architecture +
                " decodes every structure in one orientation (a training frame's): frames turned otherwise keep an "
                "error it cannot learn away; prepare the dataset with --align");
}

// The files of a run in `folder` that train writes: an earlier run's.
std::vector<std::string> earlier_run_files(const std::string& folder) {
  std::vector<std::string> found;
  for (const char* name : {"best.ckpt", "last.ckpt", "log.jsonl"}) {
    std::error_code ec;
    if (std::filesystem::exists(std::filesystem::path(folder) / name, ec)) found.push_back(name);
  }
  return found;
}

// A resumed run asking for other hyper-parameters would load weights into
// another model, or train one the options no longer describe.
void check_same_hyper_parameters(const std::string& path, const ModelConfig& saved, const ModelConfig& asked) {
  const nlohmann::json had = saved.to_json(), wants = asked.to_json();
  // Only what the command line can set: the rest comes from the checkpoint.
  for (const ArchitectureOption& a : architecture_options()) {
    if (a.flag.empty() || had.at(a.key) == wants.at(a.key)) continue;
    throw InputError(path + ": the run was trained with " + a.flag + " " + had.at(a.key).dump() +
                     "; resume it with the same option (this run asks for " + wants.at(a.key).dump() + ")");
  }
}

void resume(Run& run) {
  if (!std::filesystem::exists(run.last_path)) {
    // A run killed in its first epoch may have left best.ckpt without
    // last.ckpt: a run without --resume would refuse to replace it.
    const bool earlier = !earlier_run_files(run.options.output_dir).empty();
    throw InputError(run.last_path + ": no checkpoint to resume from (" +
                     (earlier ? "the earlier run stopped before its first checkpoint; start again with --overwrite"
                              : "run without --resume first") +
                     ")");
  }
  LoadedCheckpoint loaded = load_checkpoint(run.last_path);
  const ModelConfig& saved = loaded.state.model;
  if (saved.atoms != run.options.model.atoms || saved.architecture != run.options.model.architecture ||
      saved.latent_dim != run.options.model.latent_dim)
    throw InputError(run.last_path + ": checkpoint is for a '" + saved.architecture + "' model of " +
                     std::to_string(saved.atoms) + " atoms and latent dimension " + std::to_string(saved.latent_dim) +
                     ", but this run asks for '" + run.options.model.architecture + "', " +
                     std::to_string(run.options.model.atoms) + " atoms, latent " +
                     std::to_string(run.options.model.latent_dim));
  check_same_hyper_parameters(run.last_path, saved, run.options.model);
  const std::string saved_trainer = loaded.state.trainer();
  if (saved_trainer != run.options.trainer)
    throw InputError(run.last_path + ": the run was trained with --trainer " + saved_trainer +
                     "; resume it with the same trainer (this run asks for --trainer " + run.options.trainer + ")");
  // A different divergence would make the resumed epochs' losses incomparable with the best one's.
  if (saved_trainer == "sinkhorn" &&
      loaded.state.options.value("sinkhorn", nlohmann::json()) != run.options.sinkhorn.to_json())
    throw InputError(run.last_path + ": the run was trained with Sinkhorn options " +
                     loaded.state.options.value("sinkhorn", nlohmann::json()).dump() + "; resume it with the same " +
                     "--sinkhorn-blur and --sinkhorn-scaling (this run asks for " +
                     run.options.sinkhorn.to_json().dump() + ")");
  run.state = loaded.state;
  run.model = loaded.model;
  rng_from_string(run.rng, run.state.rng_state);
}

}  // namespace

TrainResult train_autoencoder(const TrainOptions& input_options, const TrainObserver& observer) {
  check_options(input_options);
  // An earlier run in the output folder is continued (--resume) or replaced
  // (--overwrite), never overwritten silently.
  const std::vector<std::string> earlier = earlier_run_files(input_options.output_dir);
  if (!earlier.empty() && !input_options.resume && !input_options.overwrite) {
    std::string names;
    for (const auto& name : earlier) names += (names.empty() ? "" : ", ") + name;
    throw InputError(input_options.output_dir + ": holds an earlier run (" + names +
                     "); continue it with --resume, or replace it with --overwrite");
  }
  TrainOptions options = input_options;
  const int threads =
      options.threads > 0 ? options.threads : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  torch::set_num_threads(threads);
  Run run(options, observer);
  if (run.dataset.train_indices.size() < 2)
    throw InputError(options.dataset + ": has " + std::to_string(run.dataset.train_indices.size()) +
                     " training frames; at least 2 are needed (batch normalisation)");
  options.model.atoms = static_cast<std::int64_t>(run.dataset.atom_count());
  // Refused now, before --overwrite removes an earlier run for nothing.
  make_autoencoder(options.model)->check_trainable();
  load_frames(run);
  run.bf16 = use_bf16(options.precision);
  if (const std::string note = precision_note(options.precision); !note.empty()) run.message(note);

  std::error_code ec;
  const bool made_folder = !std::filesystem::exists(options.output_dir, ec);
  std::filesystem::create_directories(options.output_dir, ec);
  if (ec) throw OutputError(options.output_dir + ": cannot create the output folder: " + ec.message());
  if (options.distributed.rank == 0) check_folder_is_writable(options.output_dir);
  // A run that fails before writing anything (e.g. a bad force field) leaves
  // no empty folder of its own behind; remove() leaves a folder with files.
  // Only rank 0 writes there: another rank ending first must not remove the
  // folder rank 0 is about to write into.
  struct EmptyFolderGuard {
    std::string folder;
    ~EmptyFolderGuard() {
      std::error_code ignored;
      if (!folder.empty()) std::filesystem::remove(folder, ignored);
    }
  } empty_folder_guard{made_folder && options.distributed.rank == 0 ? options.output_dir : std::string()};
  run.best_path = (std::filesystem::path(options.output_dir) / "best.ckpt").string();
  run.last_path = (std::filesystem::path(options.output_dir) / "last.ckpt").string();
  run.log_path = (std::filesystem::path(options.output_dir) / "log.jsonl").string();

  if (options.distributed.world_size > 1) {
    run.message("rank " + std::to_string(options.distributed.rank) + " of " +
                std::to_string(options.distributed.world_size) + ": connecting to " +
                options.distributed.master_address + ":" + std::to_string(options.distributed.master_port) +
                " (waiting up to " + std::to_string(kConnectTimeoutSeconds) + " s for the other ranks)");
    run.communicator = connect_ranks(options.distributed);
    if (options.batch_size < options.distributed.world_size)
      throw InputError("--batch-size (" + std::to_string(options.batch_size) + ") must be at least the world size (" +
                       std::to_string(options.distributed.world_size) + ")");
  }
  if (options.resume) {
    resume(run);
  } else {
    // --overwrite: the earlier run goes now, so that nothing of it (a
    // checkpoint named as "the last good one") outlives this run's start.
    if (run.is_main())
      for (const auto& name : earlier) {
        std::error_code ec;
        std::filesystem::remove(std::filesystem::path(options.output_dir) / name, ec);
        if (ec)
          throw OutputError(options.output_dir + "/" + name +
                            ": cannot remove the earlier run's file: " + ec.message());
      }
    start_fresh(run);
  }
  if (run.communicator) {
    // Batch statistics span all processes of the run.
    Communicator* communicator = run.communicator.get();
    set_batch_norm_process_group(
        *run.model, [communicator](const torch::Tensor& t) { return allreduce_sum_autograd(t, *communicator); });
    // Same seed gives the same initial weights, but make sure of it.
    std::vector<torch::Tensor> state;
    for (auto& p : run.model->parameters()) state.push_back(p);
    for (auto& b : run.model->buffers()) state.push_back(b);
    run.communicator->broadcast(state, 0);
  }
  if (options.physics.enabled()) {
    run.message("physics: " + options.physics.engine + " engine, non-bonded " + options.physics.nonbonded +
                ", in the loss from epoch " + std::to_string(options.physics.start_epoch));
    run.physics = std::make_unique<InterpolationPhysics>(make_interpolation_energy(run.first_frame, options.physics),
                                                         options.physics);
  }
  if (options.trainer == "sinkhorn") {
    run.message("trainer: sinkhorn (blur " + std::to_string(options.sinkhorn.blur) + ", scaling " +
                std::to_string(options.sinkhorn.scaling) +
                "): the decoder learns from latent samples of N(0, I); the encoder learns to invert it");
    // The run's own seed (a resumed run's from its checkpoint): the fixed
    // validation samples must stay the same.
    run.sinkhorn = std::make_unique<SinkhornTraining>(options.sinkhorn, run.state.model.latent_dim,
                                                      run.state.options.value("seed", options.seed));
  }
  set_up_geometry(run);
  if (run.dataset.valid_indices.empty())
    run.message("warning: " + options.dataset +
                " has no validation frames (prepared with --valid 0): the best checkpoint is the one with the lowest "
                "training loss, and log.jsonl has no valid_* values; nothing measures how well the model "
                "generalises");
  for (const auto& [name, weight] : options.loss_terms) {
    run.loss_terms.emplace_back(name, weight, find_loss_term(name));
    run.message("loss term " + name + " with weight " + std::to_string(weight));
  }
  run.optimizer = std::make_unique<torch::optim::AdamW>(
      run.model->parameters(), torch::optim::AdamWOptions(options.learning_rate).weight_decay(options.weight_decay));
  if (options.resume) {
    restore_training_state(run.last_path, *run.optimizer);
    run.message("resuming after epoch " + std::to_string(run.state.epoch) + " from " + run.last_path);
    // A run killed between last.ckpt and log.jsonl left the log an epoch
    // short; the checkpoint's history is complete.
    if (run.is_main()) write_log(run);
  }

  TrainResult result;
  result.best_checkpoint = run.best_path;
  result.last_checkpoint = run.last_path;
  const auto run_start = Clock::now();
  int epochs_this_run = 0;
  for (int epoch = run.state.epoch + 1; epoch <= options.max_epochs; ++epoch) {
    if (options.patience > 0 && run.state.epochs_without_improvement >= options.patience) {
      result.reason = StopReason::EarlyStopping;
      break;
    }
    ++epochs_this_run;
    const auto start = Clock::now();
    if (run.physics) run.physics->start_epoch();
    run.loss_term_sums.clear();
    run.sinkhorn_sum = 0;
    const auto train_loss = train_epoch(run, epoch, run_start, epochs_this_run);
    if (!train_loss) {
      result.reason = StopReason::Interrupted;
      break;
    }
    const Validation validation = validate(run);
    const bool has_validation = run.tensors.valid_indices.size(0) > 0;
    if (has_validation && (!std::isfinite(validation.mse) || (run.sinkhorn && !std::isfinite(validation.sinkhorn))))
      throw TrainingDivergedError("epoch " + std::to_string(epoch) + ": the validation loss is not finite; stopped. " +
                                  (run.state.epoch > 0 ? "The last good checkpoint is kept: " + run.last_path
                                                       : std::string("No checkpoint was written.")));
    EpochRecord record;
    record.epoch = epoch;
    record.train_loss = *train_loss;
    record.valid_mse = validation.mse;
    record.valid_sinkhorn = validation.sinkhorn;
    if (run.sinkhorn)
      record.train_sinkhorn = run.sinkhorn_sum / static_cast<double>(std::max<std::size_t>(1, run.batches_per_epoch));
    // The loss that chooses the best checkpoint: the trainer's own.
    const double valid_base = run.sinkhorn ? validation.sinkhorn : validation.mse;
    record.valid_loss = valid_base;
    record.valid_rmsd = validation.rmsd;
    record.valid_bond_rmsd = validation.bond_rmsd;
    record.valid_stretched_bonds = validation.stretched_bonds;
    for (const auto& [name, sum] : run.loss_term_sums)
      record.loss_terms[name] = sum / static_cast<double>(std::max<std::size_t>(1, run.batches_per_epoch));
    if (run.physics) {
      record.physics_active = run.physics->active(epoch);
      record.train_energy = run.physics->epoch_mean_energy();
      run.model->eval();
      record.valid_energy = run.physics->validation_energy(
          [&](const torch::Tensor& indices) { return run.model->encode(run.tensors.frames(indices)); },
          [&](const torch::Tensor& points) { return run.model->decode(points); }, run.tensors.valid_indices,
          run.tensors.train_indices, run.options.batch_size);
      record.physics_scale = run.physics->last_weight();
      // Python molearn's validation loss with physics: log(MSE) + w log(mean E).
      if (has_validation && record.physics_active && record.valid_energy > 0) {
        record.valid_loss =
            std::log(std::max(valid_base, 1e-12)) + record.physics_scale * std::log(record.valid_energy);
        record.selection_by_physics = true;
      }
      // The validation loss changes meaning when physics starts: the best
      // checkpoint is chosen among physics epochs from then on.
      if (epoch == run.options.physics.start_epoch) run.state.best_epoch = 0;
    }
    record.seconds = std::chrono::duration<double>(Clock::now() - start).count();
    record.frames_per_second = static_cast<double>(run.tensors.train_indices.size(0)) / record.seconds;
    // Without validation frames the training loss chooses the best epoch.
    const double selection_loss = has_validation ? record.valid_loss
                                  : run.sinkhorn ? record.train_sinkhorn
                                                 : record.train_loss;
    record.improved = run.state.best_epoch == 0 || selection_loss < run.state.best_valid_loss;
    run.state.epoch = epoch;
    if (record.improved) {
      run.state.best_epoch = epoch;
      run.state.best_valid_loss = selection_loss;
      run.state.epochs_without_improvement = 0;
    } else {
      ++run.state.epochs_without_improvement;
    }
    run.state.rng_state = rng_to_string(run.rng);
    run.state.history.push_back(record.to_json());
    if (run.is_main()) {  // only rank 0 writes checkpoints and logs
      if (record.improved) save_checkpoint(run.best_path, run.state, *run.model, run.optimizer.get());
      save_checkpoint(run.last_path, run.state, *run.model, run.optimizer.get());
      write_log(run);
      if (observer.on_epoch) observer.on_epoch(record);
    }
  }
  if (result.reason == StopReason::MaxEpochs && options.patience > 0 &&
      run.state.epochs_without_improvement >= options.patience && run.state.epoch < options.max_epochs)
    result.reason = StopReason::EarlyStopping;
  result.epochs_completed = run.state.epoch;
  result.best_epoch = run.state.best_epoch;
  result.best_valid_loss = run.state.best_valid_loss;
  result.has_validation = run.tensors.valid_indices.size(0) > 0;
  const std::string base = run.sinkhorn ? "Sinkhorn divergence" : "MSE";
  result.selection = result.has_validation ? "valid " + base : "training " + (run.sinkhorn ? base : "loss");
  for (const auto& record : run.state.history)
    if (record.at("epoch").get<int>() == run.state.best_epoch && record.contains("valid_rmsd")) {
      result.best_valid_rmsd = record.at("valid_rmsd");
      // Logs written before selection_by_physics: the log formula made valid_loss differ from the MSE.
      result.best_by_physics =
          record.value("selection_by_physics",
                       !run.sinkhorn && record.value("valid_mse", record.at("valid_loss")) != record.at("valid_loss"));
      if (result.best_by_physics) result.selection = "log valid " + base + " + scale x log energy";
    }
  return result;
}

}  // namespace molearn
