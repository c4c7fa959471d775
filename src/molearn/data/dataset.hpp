// A prepared dataset: the selected atoms of every conformer, centred and
// scaled for training, with everything needed to turn model output back into
// structures in Å.
#pragma once

#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <span>
#include <string>
#include <vector>

#include "molearn/data/polymer.hpp"
#include "molearn/io/topology.hpp"

namespace molearn {

// Where a frame of the dataset came from.
struct FrameOrigin {
  std::uint32_t file = 0;   // index into Dataset::sources
  std::uint64_t frame = 0;  // 0-based frame index inside that file
};

struct Dataset {
  Topology topology;                    // selected atoms, residue names canonicalised
  std::vector<ResidueTermini> termini;  // one per residue of `topology`
  std::size_t frame_count = 0;
  // [frame][atom][xyz]: each frame centred on its centroid (and superposed on
  // the first when aligned), then scaled: (x - mean) / std.
  std::vector<float> coords;
  double mean = 0.0;  // scalar over all coordinates, as Python molearn
  double std = 1.0;
  std::vector<std::size_t> train_indices;
  std::vector<std::size_t> valid_indices;
  std::vector<std::string> sources;                    // input files, as given
  std::string topology_source;                         // topology file, as given
  std::vector<FrameOrigin> origins;                    // one per frame
  nlohmann::json settings = nlohmann::json::object();  // options used to prepare it

  std::size_t atom_count() const { return topology.atom_count(); }
  std::span<const float> frame(std::size_t i) const { return {coords.data() + i * atom_count() * 3, atom_count() * 3}; }
  // A frame converted back to Å: x * std + mean.
  std::vector<float> frame_in_angstrom(std::size_t i) const;
};

}  // namespace molearn
