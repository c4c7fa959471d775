// Landscapes over latent points: decode a list of points (a scan grid, the
// steps of a path) in batches of bounded size and compute, per point, the
// requested quantities:
//   drift(z) = |encode(decode(z)) - z|                          latent units
//   error(z) = RMSD(decode(z), decode(encode(decode(z))))       Å, no refitting
// (Python molearn's scan_drift/scan_error measure other things: issue 13),
// and per-structure metrics of the decoded structures in Å (DOPE,
// Ramachandran, energy, geometry) from the analysis library.
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <vector>

#include "molearn/analysis/conformers.hpp"
#include "molearn/train/checkpoint.hpp"

namespace molearn {

// A per-structure metric of decoded structures, as the scan needs it.
struct StructureMetric {
  std::string name;    // landscape name: "dope"
  std::string unit;    // "kJ/mol", "A", "fraction", ...
  std::string column;  // the MetricTable column the value comes from
  bool higher_is_better = false;
  std::function<std::vector<double>(const Conformers&)> compute;  // one value per frame
};

struct StructureMetricSettings {
  std::string data_dir;  // reference tables (DOPE, Ramachandran); empty: the library's search order
  int threads = 0;
};

// Every landscape name molearn knows, in the order they are listed.
const std::vector<std::string>& landscape_names();

// Describes landscape `name` (unit, column, direction). For a per-structure
// metric this loads what it needs (tables, force field matched to the
// topology of `example`, which must hold one frame) once; throws InputError
// for an unknown name, or when its reference data is missing or the
// topology does not fit.
StructureMetric structure_metric(const std::string& name, const Conformers& example,
                                 const StructureMetricSettings& settings);

// Every landscape whose structure_metric() succeeds for `example` now
// (error and drift always), for default metric lists; `skipped` receives
// "NAME left out: why" for the others.
std::vector<StructureMetric> available_metrics(const Conformers& example, const StructureMetricSettings& settings,
                                               std::vector<std::string>* skipped = nullptr);

// structure_metric() of each name, in order.
std::vector<StructureMetric> structure_metrics(const std::vector<std::string>& names, const Conformers& example,
                                               const StructureMetricSettings& settings);

// The checkpoint's topology and chain ends with the frames `xyz_angstrom`
// (frame after frame, may be empty).
Conformers conformers_of(const CheckpointState& state, std::vector<float> xyz_angstrom = {});

struct LatentEvaluationOptions {
  std::vector<StructureMetric> landscapes;  // from structure_metrics()
  std::size_t batch_size = 16;              // structures decoded at once (memory grows with it)
  bool bf16 = false;                        // the model under bfloat16 autocast (--precision bf16)
  std::function<void(std::size_t done, std::size_t total)> on_progress;
  std::function<bool()> stop_requested;                        // checked between batches
  std::function<void(const Conformers& batch)> on_structures;  // each decoded batch, Å
};

struct LandscapeValues {
  std::string name, unit, column;
  bool higher_is_better = false;
  std::vector<double> values;  // one per point; NaN where undefined
  double seconds = 0;          // time spent on this landscape
};

struct LatentEvaluation {
  std::vector<LandscapeValues> landscapes;  // in the order requested
  double decode_seconds = 0;                // decoding the points themselves
  std::size_t points_done = 0;              // < points.size() when stopped early
  bool interrupted = false;
};

// Evaluates `points` (latent_dim values each) through `model`, whose
// scaling and topology are `state`'s. Throws InputError for points of the
// wrong dimension or a batch size of 0.
LatentEvaluation evaluate_latent_points(AutoencoderImpl& model, const CheckpointState& state,
                                        const std::vector<std::vector<double>>& points,
                                        const LatentEvaluationOptions& options);

}  // namespace molearn
