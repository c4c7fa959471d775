// Latent points of a dataset and of path endpoints, for `molearn scan` and
// `molearn path`: dataset frames and structure files encoded with a
// checkpoint's model and scaling.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "molearn/data/dataset.hpp"
#include "molearn/train/checkpoint.hpp"

namespace molearn {

// Throws InputError naming `dataset_path` when the dataset's atoms are not
// the checkpoint's (count, names, residues), e.g. a dataset of another
// protein or another atom selection.
void check_dataset_matches(const Dataset& dataset, const std::string& dataset_path, const CheckpointState& state);

// Every frame of `dataset` encoded (latent_dim values each), in chunks of a
// few frames so memory stays bounded; coordinates are rescaled to the
// checkpoint's statistics when the dataset was scaled differently.
std::vector<std::vector<double>> encode_dataset(AutoencoderImpl& model, const CheckpointState& state,
                                                const Dataset& dataset, bool bf16 = false);

// An end or waypoint of a path: a dataset frame index (digits only) or a
// structure file.
struct PathEndpoint {
  std::optional<std::size_t> frame;
  std::string file;
  std::string describe() const { return frame ? "frame " + std::to_string(*frame) : file; }
};
PathEndpoint parse_endpoint(const std::string& text);

// The latent point of an endpoint. A frame is encoded from the dataset
// (InputError when out of range). A file's atoms are matched to the
// checkpoint's topology by chain, residue and name, centred as the dataset's
// frames are (and superposed on its first frame when it was prepared with
// --align), scaled with the checkpoint's statistics and encoded. Throws
// InputError naming the file and what it lacks.
std::vector<double> encode_endpoint(AutoencoderImpl& model, const CheckpointState& state, const Dataset& dataset,
                                    const std::string& dataset_path, const PathEndpoint& endpoint,
                                    const std::string& topology_path = "", bool bf16 = false);

}  // namespace molearn
