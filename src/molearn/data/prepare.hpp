// From trajectory files to a training dataset: select, align, centre, scale,
// split.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "molearn/data/dataset.hpp"
#include "molearn/data/selection.hpp"

namespace molearn {

struct PrepareOptions {
  std::vector<std::string> inputs;  // PDB, mmCIF, DCD or XTC files, read in order
  std::string topology;             // PDB/mmCIF; required for DCD/XTC inputs
  SelectionSpec selection;
  bool align = false;           // superpose every frame on the first (selected atoms)
  std::size_t stride = 1;       // keep every stride-th frame of each file
  std::size_t max_frames = 0;   // if > 0, keep this many frames evenly spaced over all read
  double valid_fraction = 0.1;  // share of frames held out for validation
  std::uint64_t seed = 0;       // seeds the train/validation split
};

struct PrepareProgress {
  std::string file;
  std::size_t frames_read = 0;                // in this file, including skipped ones
  std::optional<std::size_t> frames_in_file;  // when the format tells
  bool file_done = false;
};
using PrepareProgressFn = std::function<void(const PrepareProgress&)>;

// Throws InputError/FormatError/SelectionError naming the file and frame.
Dataset prepare_dataset(const PrepareOptions& options, const PrepareProgressFn& progress = {});

// The seeded train/validation split: floor(frames * valid_fraction) frames for
// validation, as Python molearn, but at least one when there are 2 frames or
// more and the fraction is not 0. Same seed, same split, on every platform.
void split_dataset(Dataset& dataset, double valid_fraction, std::uint64_t seed);

}  // namespace molearn
