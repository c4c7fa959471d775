// Frames of a .mlds dataset file read from disk when a batch needs them, so
// that training holds a batch in memory, not the whole dataset (10^5 frames
// of a large protein are several GB).
#pragma once

#include <cstddef>
#include <fstream>
#include <span>
#include <string>

#include "molearn/data/dataset.hpp"
#include "molearn/data/dataset_file.hpp"

namespace molearn {

class DatasetFrameReader {
 public:
  // Opens `path` and checks its coordinates once (checksum, finite values)
  // in bounded memory. `metadata` and `section` are the file's
  // read_dataset_metadata. Throws FormatError / InputError naming the file.
  DatasetFrameReader(const std::string& path, const Dataset& metadata, const DatasetDataSection& section);

  // Copies the frames `rows` ([atom][xyz] each, scaled as stored) one after
  // the other into `out`, which holds rows.size() x atoms x 3 floats.
  void read(std::span<const std::size_t> rows, float* out);

  std::size_t frame_count() const { return frames_; }
  std::size_t floats_per_frame() const { return floats_per_frame_; }

 private:
  std::string path_;
  std::ifstream in_;
  DatasetDataSection section_;
  std::size_t frames_ = 0;
  std::size_t floats_per_frame_ = 0;
};

}  // namespace molearn
