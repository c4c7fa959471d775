// Everything `molearn report` shows about a training run, collected from its
// folder: the log, the model of a checkpoint, the dataset encoded and
// decoded, and the quality metrics of three groups of structures (training
// frames, their reconstructions, decoded midpoints of straight latent paths).
// Plain data: the header needs no torch.
#pragma once

#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "molearn/analysis/conformers.hpp"
#include "molearn/analysis/metric_table.hpp"
#include "molearn/analysis/scan_folder.hpp"

namespace molearn {

struct RunAnalysisOptions {
  std::string run_dir;
  std::string checkpoint = "best";  // best or last
  std::string dataset;              // default: the dataset recorded in the checkpoint
  std::string data_dir;             // reference tables; given: they must be there (else InputError)
  int threads = 0;                  // 0: every core
  std::size_t max_midpoints = 64;   // pairs of consecutive training frames
  std::function<void(const std::string&)> progress;
};

// log.jsonl as columns, one value per epoch.
struct TrainingLog {
  std::vector<double> epoch, train_loss, valid_rmsd;
  // The validation MSE (scaled units, comparable with train_loss), and the
  // loss that chose the best checkpoint: the MSE, or with the physics loss
  // active log(MSE) + scale * log(mean E). NaN where absent (no validation
  // frames; valid_mse of an older log's physics epochs).
  std::vector<double> valid_mse, valid_loss;
  std::vector<double> train_energy, valid_energy;  // empty unless the run logged energies
  // Bonds of the validation reconstructions (Å RMS deviation from ideal, %
  // off by > 0.1 Å); empty unless the run logged them (NaN where an epoch
  // did not).
  std::vector<double> valid_bond_rmsd, valid_stretched_bonds;
  // --trainer sinkhorn: the Sinkhorn divergence of decoded prior samples
  // against the training batches (mean) and the validation frames; empty
  // for the autoencoder trainer.
  std::vector<double> train_sinkhorn, valid_sinkhorn;
};

// A metric family ("geometry", "ramachandran", "dope", "energy"): available,
// or why not, in words for the page.
struct MetricStatus {
  std::string key, title;
  std::vector<std::string> columns;  // the columns histogrammed (with their units in `units`)
  std::vector<std::string> units;
  bool available = false;
  std::string note;  // why it is not available / what failed
};

// One group of structures and its per-frame metrics.
struct StructureGroup {
  std::string key;    // training, reconstructions, midpoints
  std::string label;  // for legends
  Conformers conformers;
  MetricTable metrics;  // columns of every available metric family
  // General-class residues (not Gly, Pro, Ile, Val or pre-Pro) of every
  // frame, in degrees, for the Ramachandran scatter; undefined angles left out.
  std::vector<double> phi, psi;
};

// The general-class Top8000 density on a 2-degree grid, with the
// favoured/allowed thresholds as contour levels.
struct RamachandranContours {
  std::vector<double> phi, psi;  // bin centres
  std::vector<double> density;   // [psi][phi]
  double allowed = 0, favoured = 0;
};

struct RunAnalysis {
  std::string run_dir, checkpoint_path, dataset_path;
  std::string checkpoint_kind;  // best or last
  int checkpoint_epoch = 0, best_epoch = 0;
  std::string model_kind;
  int latent_dim = 0;
  std::size_t atoms = 0, residues = 0, frames = 0;
  TrainingLog log;
  std::vector<std::size_t> train_indices, valid_indices;
  std::vector<std::vector<double>> latent;  // per dataset frame
  std::vector<double> rmsd;                 // per dataset frame, Å, no refitting (as `generate --reconstruct`)
  std::vector<double> rmsd_superposed;  // per dataset frame, Å, after optimal superposition; empty when unavailable
  std::string superposed_note;          // why it is unavailable
  std::vector<std::pair<std::size_t, std::size_t>> midpoint_pairs;  // dataset frame indices
  std::vector<MetricStatus> metric_status;
  std::vector<StructureGroup> groups;  // training, reconstructions, midpoints
  std::optional<RamachandranContours> contours;
  std::string contours_note;  // why there are none
};

// Throws InputError: no log.jsonl or checkpoint in the run folder, a dataset
// of another topology, reference tables missing from a given --data-dir;
// FormatError for a corrupt log or checkpoint.
RunAnalysis analyse_run(const RunAnalysisOptions& options);

// log.jsonl of a run folder. Throws InputError (missing) / FormatError.
TrainingLog read_training_log(const std::string& path);

}  // namespace molearn
