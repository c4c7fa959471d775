// Training checkpoints: model, optimiser, epoch, RNG states, dataset
// statistics and topology, and the configuration of the run. Written
// atomically (temporary file + rename), so a crash or a full disk never
// destroys the previous checkpoint.
#pragma once

#include <torch/torch.h>

#include <string>
#include <vector>

#include "molearn/data/polymer.hpp"
#include "molearn/io/topology.hpp"
#include "molearn/models/autoencoder.hpp"

namespace molearn {

inline constexpr int kCheckpointVersion = 1;

struct CheckpointState {
  ModelConfig model;
  nlohmann::json options;    // TrainOptions::to_json() of the run
  std::string dataset_path;  // absolute path of the dataset `molearn train` read (older checkpoints: as typed)
  double mean = 0, std = 1;  // dataset scaling: Å = x * std + mean
  Topology topology;
  std::vector<ResidueTermini> termini;
  int epoch = 0;  // epochs completed
  int best_epoch = 0;
  double best_valid_loss = 0;
  int epochs_without_improvement = 0;
  std::string rng_state;                             // the shuffling generator (std::mt19937_64, text)
  nlohmann::json history = nlohmann::json::array();  // one EpochRecord JSON per epoch
  // TrainOptions::trainer of the run ("autoencoder" for checkpoints written
  // before there was a choice).
  std::string trainer() const { return options.value("trainer", std::string("autoencoder")); }
};

// Writes `state`, the model's parameters and buffers, the optimiser's state
// (if given) and the global torch generator. Throws OutputError.
void save_checkpoint(const std::string& path, const CheckpointState& state, AutoencoderImpl& model,
                     torch::optim::Optimizer* optimizer);

struct LoadedCheckpoint {
  CheckpointState state;
  Autoencoder model;  // built from state.model, weights loaded, in eval mode
};

// Throws InputError (missing file) or FormatError (not a molearn checkpoint,
// wrong version, corrupt).
LoadedCheckpoint load_checkpoint(const std::string& path);

// Restores the optimiser state and the global torch generator saved with the
// checkpoint (for --resume).
void restore_training_state(const std::string& path, torch::optim::Optimizer& optimizer);

}  // namespace molearn
