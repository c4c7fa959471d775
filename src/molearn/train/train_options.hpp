// Everything `molearn train` can be told. Plain data, no torch.
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "molearn/models/model_config.hpp"
#include "molearn/train/sinkhorn_options.hpp"

namespace molearn {

struct DistributedOptions {
  int world_size = 1;  // number of processes; 1 = no distribution
  int rank = 0;
  std::string master_address = "127.0.0.1";
  int master_port = 29500;

  std::string launcher;      // "torchrun" or "slurm" when read from their variables
  int launcher_threads = 0;  // SLURM_CPUS_PER_TASK, 0 when not set

  // The variables of torchrun (RANK, WORLD_SIZE, MASTER_ADDR, MASTER_PORT)
  // or srun (SLURM_PROCID, SLURM_NTASKS, SLURM_JOB_NODELIST,
  // SLURM_CPUS_PER_TASK), where set, override the fields
  // (train/launcher_environment.hpp). Throws InputError on malformed values.
  void read_environment();
  // "host:port" -> master_address, master_port. Throws InputError.
  void set_master(const std::string& host_port);
};

// The physics loss (Ramaswamy et al., PRX 2021; Python molearn's
// OpenMM_Physics_Trainer): structures decoded from random interpolations
// between pairs of encoded training structures are scored by a force field.
struct PhysicsOptions {
  std::string engine = "none";  // none, openmm (Context pool) or torch (differentiable force field)
  std::string nonbonded = "soft";
  std::vector<std::string> forcefield;  // empty: amber14/protein.ff14SB.xml
  std::string platform = "auto";        // OpenMM platform of the openmm engine (resolve_platform_name)
  // Adaptive weighting (Python molearn's published scheme): the physics term
  // is `scale` times the reconstruction term, s = scale * MSE / mean(E),
  // computed without gradient every step. A fixed `weight` W > 0 replaces it:
  // loss = MSE + W * mean(E).
  double scale = 0.1;
  double weight = 0.0;
  int start_epoch = 10;  // epochs before this one only log the energy ("soft start")

  bool enabled() const { return engine != "none"; }
  nlohmann::json to_json() const;
};

// Losses that teach the decoder chemistry (train/geometry_loss_torch.hpp),
// computed on the reconstructions of each batch. Each is in the units of the
// reconstruction MSE (squared scaled coordinates), so a weight of 1 makes a
// mean squared distance error count as much as the mean squared coordinate
// error. 0 switches a term off.
struct GeometryLossOptions {
  // Bond lengths and 1-3 (angle) distances against the force field's
  // equilibrium values (Amber ff14SB by default, PhysicsOptions::forcefield).
  double bonded_weight = 0;
  // Python molearn's AE-DM local term: distances between atoms at most
  // `local_k` apart in the chain (atom order), against the input's.
  double local_weight = 0;
  int local_k = 8;
  // The AE-DM non-local term: a fixed random sample of the other pairs.
  double nonlocal_weight = 0;
  // Backbone dihedrals (phi, psi, omega) against the input's: mean of
  // 1 - cos(difference), times the square of a 1.5 Å lever arm (scaled).
  double dihedral_weight = 0;
  // Epochs before this one only log the terms: the reconstruction error
  // finds the fold first (strong geometry terms from the start slow that).
  int start_epoch = 0;

  // Set by `train`'s default for cnn2d-dm, which the user did not ask for: a
  // dataset without bonds the force field knows (a CA-only selection) then
  // trains without the bonded term, with a note, rather than failing.
  bool bonded_by_default = false;

  bool enabled() const { return bonded_weight > 0 || local_weight > 0 || nonlocal_weight > 0 || dihedral_weight > 0; }
  nlohmann::json to_json() const;
  // Missing keys keep their defaults (a checkpoint's "geometry" options).
  static GeometryLossOptions from_json(const nlohmann::json& j);
};

struct TrainOptions {
  std::string dataset;     // .mlds written by `molearn prepare`
  std::string output_dir;  // checkpoints, log.jsonl
  ModelConfig model;       // atoms is filled in from the dataset
  int max_epochs = 100;
  int patience = 16;   // epochs without validation improvement before stopping; 0 = never stop early
  int batch_size = 8;  // as Python molearn's examples
  double learning_rate = 1e-3;
  double weight_decay = 1e-4;
  std::uint64_t seed = 0;
  int threads = 0;  // intra-op threads; 0 = all cores
  // "autoencoder" (reconstruction loss, Python molearn's Trainer and its
  // physics trainer) or "sinkhorn" (SinkhornOptions).
  std::string trainer = "autoencoder";
  SinkhornOptions sinkhorn;
  bool resume = false;
  bool overwrite = false;  // replace an earlier run in output_dir (else refused unless resuming)
  // Where the frames live during training: "memory" (all loaded), "stream"
  // (read from the file a batch at a time) or "auto" (stream large datasets).
  // The same frames either way: it changes memory use, not results.
  std::string data_access = "auto";
  // "fp32", "bf16" (convolutions and matrix products of training in
  // bfloat16, the rest in fp32) or "auto" (bf16 where the CPU has it
  // natively). Validation is always fp32, so that runs compare.
  std::string precision = "auto";
  DistributedOptions distributed;
  PhysicsOptions physics;
  GeometryLossOptions geometry;
  // Extra loss terms registered by a program using the library
  // (train/loss_terms.hpp): name -> weight (finite, >= 0).
  std::map<std::string, double> loss_terms;

  nlohmann::json to_json() const;
};

}  // namespace molearn
