// `molearn train`: fit an autoencoder to a prepared dataset.
#include <algorithm>
#include <atomic>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>
#include <variant>

#include "commands.hpp"
#include "molearn/core/allocator.hpp"
#include "molearn/core/error.hpp"
#include "molearn/models/architecture_options.hpp"
#include "molearn/models/model_names.hpp"
#include "molearn/train/checkpoint_summary.hpp"
#include "molearn/train/trainer.hpp"
#include "option_checks.hpp"
#include "physics_options.hpp"
#include "progress.hpp"

namespace molearn::cli {

namespace {

std::atomic<bool> g_stop{false};

extern "C" void request_stop(int) { g_stop.store(true); }

std::string format_duration(double seconds) {
  const long s = static_cast<long>(seconds + 0.5);
  char text[32];
  if (s >= 3600)
    std::snprintf(text, sizeof text, "%ldh%02ldm", s / 3600, (s % 3600) / 60);
  else
    std::snprintf(text, sizeof text, "%ldm%02lds", s / 60, s % 60);
  return text;
}

// SIREN's sine layers (w0 = 30) diverge at the other models' 1e-3: on the
// villin demo, 1e-3 collapses to the mean structure within 2 epochs, 1e-4
// reaches a validation RMSD of 1.3 A in 12 (the SIREN paper uses 1e-4).
constexpr double kSirenLearningRate = 1e-4;

// An option of the architectures' hyper-parameters and its row of the table.
struct ModelOption {
  CLI::Option* option;
  const ArchitectureOption* spec;
};

struct TrainArgs {
  CLI::Option* lr_option = nullptr;
  std::vector<CLI::Option*> geometry_options;
  std::vector<ModelOption> model_options;
  TrainOptions options;
  std::string master;
  int world_size = 0;
  int rank = -1;
};

// An option that another architecture has would be ignored silently: refuse it.
void check_model_options(const TrainArgs& args) {
  const std::string& model = args.options.model.architecture;
  for (const ModelOption& m : args.model_options) {
    if (m.option->count() == 0 || m.spec->shapes(model)) continue;
    throw InputError(m.option->get_name() + " shapes --model " + joined(m.spec->architectures, " or ") + ", not " +
                     model);
  }
}

// cnn2d-dm trains with its geometry terms unless told otherwise: on the
// villin demo (3 seeds, 72 epochs) they bring the reconstructions' bonds
// from 0.114 to 0.049 A RMS and from 33 % to 4.7 % off by > 0.1 A, at +6.6 %
// validation RMSD (bench/README.md, "cnn2d-dm's geometry settings"). Any
// geometry option given: the user chose, nothing is added. The Sinkhorn
// trainer takes no geometry terms. A resumed run keeps the terms it was
// started with (--epochs, and so the start, may differ now).
void apply_geometry_defaults(TrainArgs& args, bool main_rank) {
  TrainOptions& options = args.options;
  if (options.model.architecture != "cnn2d-dm" || options.trainer == "sinkhorn") return;
  for (const CLI::Option* option : args.geometry_options)
    if (option->count() > 0) return;
  GeometryLossOptions& g = options.geometry;
  if (options.resume) {
    const std::string last = (std::filesystem::path(options.output_dir) / "last.ckpt").string();
    std::error_code ec;
    if (!std::filesystem::is_regular_file(last, ec)) return;  // the trainer says what is missing
    g = GeometryLossOptions::from_json(checkpoint_summary(last).at("options").value("geometry", nlohmann::json()));
    return;
  }
  g.local_weight = 10;
  g.bonded_weight = 1;
  g.bonded_by_default = true;
  g.start_epoch = std::clamp(options.max_epochs / 4, 1, 16);  // the error finds the fold first
  if (main_rank)
    std::printf(
        "cnn2d-dm: geometry terms on by default (--local-weight 10 --bonded-weight 1 --geometry-start %d); "
        "--local-weight 0 --bonded-weight 0 trains on the reconstruction error alone\n",
        g.start_epoch);
}

void run_train(TrainArgs& args) {
  keep_freed_memory_for_reuse();  // 1.2-1.6x faster steps, see core/allocator.hpp
  TrainOptions& options = args.options;
  check_model_options(args);
  if (args.lr_option->count() == 0 && options.model.architecture == "siren") options.learning_rate = kSirenLearningRate;
  options.distributed.read_environment();  // explicit options below win over the environment
  if (args.world_size > 0) options.distributed.world_size = args.world_size;
  if (args.rank >= 0) options.distributed.rank = args.rank;
  if (!args.master.empty()) options.distributed.set_master(args.master);
  const DistributedOptions& d = options.distributed;
  // Several ranks on one node must share its cores, not each take all.
  if (options.threads == 0 && d.launcher_threads > 0) options.threads = d.launcher_threads;
  if (!d.launcher.empty() && d.world_size > 1)
    std::printf("started by %s: rank %d of %d, rank 0 at %s:%d, %s\n", d.launcher.c_str(), d.rank, d.world_size,
                d.master_address.c_str(), d.master_port,
                options.threads > 0 ? (std::to_string(options.threads) + " threads").c_str() : "all cores");
  const bool main_rank = options.distributed.rank == 0;
  apply_geometry_defaults(args, main_rank);
  g_stop.store(false);
  std::signal(SIGINT, request_stop);
  std::signal(SIGTERM, request_stop);
  ProgressLine line;
  TrainObserver observer;
  observer.stop_requested = &g_stop;
  observer.on_message = [&line](const std::string& text) {
    line.finish();
    std::printf("%s\n", text.c_str());
    std::fflush(stdout);
  };
  observer.on_batch = [&line](const BatchProgress& p) {
    char text[160];
    std::snprintf(text, sizeof text, "epoch %d/%d  batch %zu/%zu  loss %.5f  ETA %s", p.epoch, p.max_epochs, p.batch,
                  p.batches, p.loss, format_duration(p.eta_seconds).c_str());
    line.update(text);
  };
  observer.on_epoch = [&line](const EpochRecord& r) {
    line.finish();
    char physics[96] = "";
    if (r.train_energy != 0 || r.valid_energy != 0)
      std::snprintf(physics, sizeof physics, "  energy %.1f/%.1f kJ/mol%s", r.train_energy, r.valid_energy,
                    r.physics_active ? "" : " (logged only)");
    char bonds[64] = "";
    if (std::isfinite(r.valid_bond_rmsd))
      std::snprintf(bonds, sizeof bonds, "  bonds %.3f A (%.1f%% off)", r.valid_bond_rmsd, r.valid_stretched_bonds);
    char sinkhorn[64] = "";
    if (std::isfinite(r.train_sinkhorn))
      std::snprintf(sinkhorn, sizeof sinkhorn,
                    std::isfinite(r.valid_sinkhorn) ? "  sinkhorn %.4f/%.4f" : "  sinkhorn %.4f", r.train_sinkhorn,
                    r.valid_sinkhorn);
    char valid[96] = "  (no validation frames)";
    if (std::isfinite(r.valid_mse))
      std::snprintf(valid, sizeof valid, "  valid %.5f  valid RMSD %.3f A", r.valid_mse, r.valid_rmsd);
    // With the physics loss active the best checkpoint is chosen by another loss; show it.
    if (r.selection_by_physics)
      std::snprintf(valid + std::strlen(valid), sizeof valid - std::strlen(valid), "  selection %.4f", r.valid_loss);
    std::printf("epoch %4d  train %.5f%s%s%s%s  %.2f frames/s  %.1f s%s\n", r.epoch, r.train_loss, valid, sinkhorn,
                bonds, physics, r.frames_per_second, r.seconds, r.improved ? "  (best)" : "");
    std::fflush(stdout);
  };
  const TrainResult result = train_autoencoder(options, observer);
  line.finish();
  if (!main_rank) return;  // rank 0 reports for everyone
  std::signal(SIGINT, SIG_DFL);
  std::signal(SIGTERM, SIG_DFL);
  const char* why = result.reason == StopReason::EarlyStopping ? "early stopping"
                    : result.reason == StopReason::Interrupted ? "interrupted (continue with --resume)"
                                                               : "maximum epochs";
  if (result.best_epoch == 0) {  // interrupted before the first epoch ended: nothing to report or resume
    std::printf(
        "stopped during epoch %d, before any epoch finished: nothing was saved (start again without "
        "--resume)\n",
        result.epochs_completed + 1);
    throw Interrupted();
  }
  if (!result.has_validation)
    std::printf("stopped after epoch %d (%s); best epoch %d by the %s %.5f (no validation frames)\n",
                result.epochs_completed, why, result.best_epoch, result.selection.c_str(), result.best_valid_loss);
  else if (result.selection == "valid MSE")
    std::printf("stopped after epoch %d (%s); best epoch %d: valid loss %.5f, valid RMSD %.3f A\n",
                result.epochs_completed, why, result.best_epoch, result.best_valid_loss, result.best_valid_rmsd);
  else
    std::printf("stopped after epoch %d (%s); best epoch %d: selection loss %.4f (%s), valid RMSD %.3f A\n",
                result.epochs_completed, why, result.best_epoch, result.best_valid_loss, result.selection.c_str(),
                result.best_valid_rmsd);
  std::printf("checkpoints: %s (best), %s (last)\n", result.best_checkpoint.c_str(), result.last_checkpoint.c_str());
  if (result.reason == StopReason::Interrupted) throw Interrupted();
}

}  // namespace

void add_train_command(CLI::App& app) {
  auto args = std::make_shared<TrainArgs>();
  TrainOptions* options = &args->options;
  CLI::App* cmd = app.add_subcommand(
      "train",
      "Train an autoencoder on a dataset made by 'molearn prepare'. Writes best.ckpt, last.ckpt and "
      "log.jsonl (one JSON line per epoch) into the output folder; Ctrl-C stops after the current batch "
      "and --resume continues from the last checkpoint.");
  cmd->add_option("dataset", options->dataset, "Dataset file (.mlds)")->required();
  cmd->add_option("-o,--output", options->output_dir, "Output folder for checkpoints and the log")->required();
  const std::vector<std::string> models = autoencoder_names();
  cmd->add_option("--model", options->model.architecture, "Architecture: " + joined(models))
      ->capture_default_str()
      ->check(CLI::IsMember(models));
  cmd->add_option("--latent", options->model.latent_dim, "Latent dimension")
      ->capture_default_str()
      ->check(number_in_range(1, 1024));
  for (const ArchitectureOption& a : architecture_options()) {
    if (a.flag.empty()) continue;
    std::visit(
        [&](auto field) {
          CLI::Option* option = cmd->add_option(a.flag, options->model.*field, joined(a.architectures) + ": " + a.help)
                                    ->capture_default_str()
                                    ->check(number_in_range(a.low, a.high));
          args->model_options.push_back({option, &a});
        },
        a.field);
  }
  cmd->add_option("--epochs", options->max_epochs, "Maximum number of epochs")
      ->capture_default_str()
      ->check(positive_number());
  cmd->add_option("--patience", options->patience,
                  "Stop after this many epochs without a better validation loss (0: never)")
      ->capture_default_str()
      ->check(non_negative_number());
  cmd->add_option("--batch-size", options->batch_size, "Frames per batch")
      ->capture_default_str()
      ->check(positive_number());
  args->lr_option =
      cmd->add_option("--lr", options->learning_rate, "AdamW learning rate (default for --model siren: 1e-4)")
          ->capture_default_str()
          ->check(positive_number());
  cmd->add_option("--weight-decay", options->weight_decay, "AdamW weight decay")
      ->capture_default_str()
      ->check(non_negative_number());
  cmd->add_option("--seed", options->seed, "Seed of initialisation and shuffling")
      ->capture_default_str()
      ->check(non_negative_number());
  add_threads_option(cmd, options->threads, "Intra-op threads (0: all cores)");
  cmd->add_option("--data-access", options->data_access,
                  "Where the frames are kept: memory (all loaded), stream (read from the file a batch at a time: "
                  "memory for a batch, whatever the dataset's size), auto (stream datasets over 256 MiB)")
      ->capture_default_str()
      ->check(CLI::IsMember({"auto", "memory", "stream"}));
  add_precision_option(cmd, options->precision,
                       "training (fp32 weights, optimiser state, batch-norm statistics and losses; the physics "
                       "term and validation are fp32 either way)");
  cmd->add_option("--trainer", options->trainer,
                  "autoencoder: reconstruction loss (with --physics, Python molearn's physics trainer); sinkhorn: "
                  "the decoder learns to turn samples of N(0, I) into the data (Sinkhorn divergence, Python "
                  "molearn's Sinkhorn_Trainer) and the encoder learns to invert it")
      ->capture_default_str()
      ->check(CLI::IsMember({"autoencoder", "sinkhorn"}));
  cmd->add_option("--sinkhorn-blur", options->sinkhorn.blur,
                  "--trainer sinkhorn: entropic blur in scaled units (smaller: closer to the Wasserstein distance)")
      ->capture_default_str()
      ->check(positive_number());
  cmd->add_option(
         "--sinkhorn-scaling", options->sinkhorn.scaling,
         "--trainer sinkhorn: temperature ratio of the epsilon-scaling, in (0, 1) (larger: more exact, slower)")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 1.0));
  cmd->add_flag("--resume", options->resume, "Continue from OUTPUT/last.ckpt");
  cmd->add_flag("--overwrite", options->overwrite,
                "Replace an earlier run in the output folder (without it or --resume, train refuses to)")
      ->excludes("--resume");
  cmd->add_option("--physics", options->physics.engine,
                  "Physics loss on structures decoded from latent interpolations: none, openmm (OpenMM Context pool) "
                  "or torch (differentiable force field in libtorch)")
      ->capture_default_str()
      ->check(CLI::IsMember({"none", "openmm", "torch"}));
  cmd->add_option("--nonbonded", options->physics.nonbonded,
                  "Non-bonded model of the physics loss: soft (Python molearn's soft-core repulsion), none or full")
      ->capture_default_str()
      ->check(CLI::IsMember({"none", "soft", "full"}));
  cmd->add_option("--forcefield,--ff", options->physics.forcefield,
                  "Force-field XML files (default amber14/protein.ff14SB.xml)")
      ->delimiter(',');
  cmd->add_option("--physics-scale", options->physics.scale,
                  "Adaptive weighting: the physics term is this fraction of the reconstruction term")
      ->capture_default_str()
      ->check(non_negative_number());
  cmd->add_option("--physics-weight", options->physics.weight,
                  "Fixed weighting instead: loss = MSE + W * mean energy (kJ/mol)")
      ->check(non_negative_number());
  cmd->add_option("--physics-start", options->physics.start_epoch,
                  "First epoch whose loss includes the energy (before: only logged; 0 or 1: from the start)")
      ->capture_default_str()
      ->check(non_negative_number());
  cmd->add_option("--platform", options->physics.platform,
                  "OpenMM platform of --physics openmm: auto (the faster for the model), CPU or Reference")
      ->capture_default_str()
      ->check(CLI::IsMember({"auto", "CPU", "Reference"}));
  GeometryLossOptions& g = options->geometry;
  args->geometry_options.push_back(
      cmd->add_option(
             "--bonded-weight", g.bonded_weight,
             "Geometry loss: bond lengths and angles (as 1-3 distances) of the reconstructions against the force "
             "field's ideal values, and each residue's chirality against the input's (cnn2d-dm: 1 unless a weight "
             "or --geometry-start is given)")
          ->capture_default_str()
          ->check(non_negative_number()));
  args->geometry_options.push_back(
      cmd->add_option("--local-weight", g.local_weight,
                      "Geometry loss (Python molearn's AE-DM): distances between atoms at most --local-k apart in the "
                      "chain, against the input's (cnn2d-dm: 10 unless a weight or --geometry-start is given)")
          ->capture_default_str()
          ->check(non_negative_number()));
  cmd->add_option("--local-k", g.local_k, "Atoms apart in the chain that the local distance loss covers")
      ->capture_default_str()
      ->check(positive_number());
  args->geometry_options.push_back(
      cmd->add_option("--nonlocal-weight", g.nonlocal_weight,
                      "Geometry loss: distances of a fixed random sample of the other pairs (16 per atom), against the "
                      "input's")
          ->capture_default_str()
          ->check(non_negative_number()));
  args->geometry_options.push_back(
      cmd->add_option("--dihedral-weight", g.dihedral_weight,
                      "Geometry loss: backbone dihedrals (phi, psi, omega) against the input's")
          ->capture_default_str()
          ->check(non_negative_number()));
  args->geometry_options.push_back(
      cmd->add_option("--geometry-start", g.start_epoch,
                      "First epoch whose loss includes the geometry terms (before: only logged; cnn2d-dm's default: "
                      "a quarter of --epochs, at most 16)")
          ->capture_default_str()
          ->check(non_negative_number()));
  cmd->add_option("--world-size", args->world_size,
                  "Processes of a data-parallel run (also WORLD_SIZE); --batch-size is the global batch")
      ->check(positive_number());
  cmd->add_option("--rank", args->rank, "This process's rank, 0 .. world size - 1 (also RANK)")
      ->check(non_negative_number());
  cmd->add_option("--master", args->master, "host:port of rank 0 (also MASTER_ADDR, MASTER_PORT)");
  cmd->footer(
      "Examples:\n"
      "  molearn train murd.mlds -o run/ --epochs 30\n"
      "  molearn train murd.mlds -o run/ --epochs 60 --resume\n"
      "  molearn train data.mlds -o run-conv/ --model conv1d --latent 3 --batch-size 8 --threads 2\n"
      "  molearn train murd.mlds -o run-phys/ --epochs 20 --physics torch --physics-start 5\n"
      "  # the distance-matrix autoencoder (N x N maps: up to 909 atoms), its geometry terms on by default\n"
      "  molearn train villin.mlds -o run-dm/ --model cnn2d-dm --epochs 72\n"
      "  # a narrower SIREN decoder\n"
      "  molearn train villin.mlds -o run-siren/ --model siren --siren-width 256 --siren-w0 20\n"
      "  # a generator of N(0, I) latent samples (Python molearn's Sinkhorn trainer); then 'generate --sample'\n"
      "  molearn train murd.mlds -o run-sk/ --trainer sinkhorn --latent 2\n"
      "  # a dataset larger than memory, read a batch at a time; full fp32 precision\n"
      "  molearn train big.mlds -o run-big/ --data-access stream --precision fp32\n"
      "  # two processes on one machine (start both):\n"
      "  molearn train murd.mlds -o run/ --world-size 2 --rank 0 --master 127.0.0.1:29500 --threads 1\n"
      "  molearn train murd.mlds -o run/ --world-size 2 --rank 1 --master 127.0.0.1:29500 --threads 1\n"
      "  # under Slurm (rank, world size, rank 0's host and threads from srun's variables):\n"
      "  srun --ntasks 4 --cpus-per-task 8 molearn train murd.mlds -o run/\n"
      "  # under torchrun's variables (RANK, WORLD_SIZE, MASTER_ADDR, MASTER_PORT):\n"
      "  RANK=1 WORLD_SIZE=2 MASTER_ADDR=node1 MASTER_PORT=29500 molearn train murd.mlds -o run/");
  cmd->callback([args] { run_train(*args); });
}

}  // namespace molearn::cli
