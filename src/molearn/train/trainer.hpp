// Trains an autoencoder on a prepared dataset. The interface is plain data so
// the CLI does not need libtorch headers.
#pragma once

#include <atomic>
#include <cmath>
#include <functional>
#include <map>
#include <optional>
#include <string>

#include "molearn/train/train_options.hpp"

namespace molearn {

struct EpochRecord {
  int epoch = 0;          // 1-based
  double train_loss = 0;  // MSE in scaled units
  // NaN (and absent from the log) for a dataset without validation frames.
  double valid_mse = 0;  // MSE in scaled units, model in eval mode
  // The loss that chooses the best checkpoint: valid_mse, or once the
  // physics loss is active Python molearn's log(MSE) + scale * log(mean E).
  double valid_loss = 0;
  bool selection_by_physics = false;  // valid_loss is log(MSE or divergence) + scale * log(mean E)
  double valid_rmsd = 0;              // Å, un-scaled, mean over validation structures
  double seconds = 0;
  double frames_per_second = 0;  // training frames per second of this epoch
  bool improved = false;         // best validation loss so far (best checkpoint written)
  // Physics (when --physics is on): mean force-field energy (kJ/mol) of the
  // structures decoded from interpolations, in training and validation.
  bool physics_active = false;  // the energy was part of the loss this epoch
  double train_energy = 0;
  double valid_energy = 0;
  double physics_scale = 0;  // weight of mean(E) in the loss (last step of the epoch)
  // Bonds of the validation reconstructions against the force field's ideal
  // lengths: RMS deviation (Å) and the percentage off by more than 0.1 Å.
  // NaN (and absent from the log) when the dataset has no bonds the force
  // field knows.
  double valid_bond_rmsd = std::nan("");
  double valid_stretched_bonds = std::nan("");
  // --trainer sinkhorn: the Sinkhorn divergence between structures decoded
  // from fixed prior samples and the validation frames (NaN otherwise).
  double train_sinkhorn = std::nan("");  // mean over the epoch's batches
  double valid_sinkhorn = std::nan("");
  // Mean over the epoch's batches of each extra loss term (unweighted).
  std::map<std::string, double> loss_terms;

  nlohmann::json to_json() const;
};

struct BatchProgress {
  int epoch = 0;
  int max_epochs = 0;
  std::size_t batch = 0;    // 1-based
  std::size_t batches = 0;  // per epoch
  double loss = 0;          // running mean of this epoch
  double eta_seconds = 0;   // until max_epochs, at the current speed
};

struct TrainObserver {
  std::function<void(const BatchProgress&)> on_batch;
  std::function<void(const EpochRecord&)> on_epoch;
  std::function<void(const std::string&)> on_message;
  // Set by a signal handler: stop after the current batch, keeping the last
  // complete checkpoint.
  const std::atomic<bool>* stop_requested = nullptr;
};

enum class StopReason { MaxEpochs, EarlyStopping, Interrupted };

struct TrainResult {
  StopReason reason = StopReason::MaxEpochs;
  int epochs_completed = 0;
  int best_epoch = 0;
  bool has_validation = true;  // false: best_* are of the training loss, best_valid_rmsd NaN
  double best_valid_loss = 0;
  bool best_by_physics = false;           // best_valid_loss is log(MSE or divergence) + scale * log(mean E)
  std::string selection;                  // what best_valid_loss is, e.g. "valid MSE", "training loss"
  double best_valid_rmsd = std::nan("");  // Å
  std::string best_checkpoint;
  std::string last_checkpoint;
};

// Throws InputError (bad dataset or options), FormatError (corrupt
// checkpoint on --resume), OutputError (cannot write), and
// TrainingDivergedError (non-finite loss; the last good checkpoint is kept).
TrainResult train_autoencoder(const TrainOptions& options, const TrainObserver& observer = {});

}  // namespace molearn
