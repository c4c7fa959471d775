#include "molearn/data/dataset_frames.hpp"

#include "molearn/core/error.hpp"

namespace molearn {

DatasetFrameReader::DatasetFrameReader(const std::string& path, const Dataset& metadata,
                                       const DatasetDataSection& section)
    : path_(path), section_(section), frames_(metadata.frame_count), floats_per_frame_(metadata.atom_count() * 3) {
  check_dataset_coordinates(path, metadata, section_);
  in_.open(path, std::ios::binary);
  if (!in_) throw InputError(path + ": cannot open file for reading");
}

void DatasetFrameReader::read(std::span<const std::size_t> rows, float* out) {
  const std::size_t frame_bytes = floats_per_frame_ * sizeof(float);
  for (std::size_t i = 0; i < rows.size(); ++i) {
    if (rows[i] >= frames_)
      throw InputError(path_ + ": frame " + std::to_string(rows[i]) + " asked for, the dataset has " +
                       std::to_string(frames_));
    in_.seekg(static_cast<std::streamoff>(section_.offset + rows[i] * frame_bytes));
    if (!in_.read(reinterpret_cast<char*>(out + i * floats_per_frame_), static_cast<std::streamsize>(frame_bytes)))
      throw FormatError(path_ + ": frame " + std::to_string(rows[i]) +
                        " could not be read (was the file truncated during training?)");
  }
}

}  // namespace molearn
