// The .mlds dataset file: one binary file holding the training tensor and its
// metadata, written by `molearn prepare` and read by `molearn train`.
//
// Layout (all integers little-endian):
//   bytes 0-7    magic  89 'M' 'L' 'D' 'S' 0D 0A 1A  (catches text-mode mangling)
//   bytes 8-11   format version (uint32), currently 1
//   bytes 12-15  reserved, 0
//   bytes 16-23  length H of the JSON header (uint64)
//   bytes 24-    JSON header (UTF-8): topology, statistics, split, provenance
//   then zero padding to a multiple of 64 bytes, then the coordinates as
//   float32 little-endian, shape [frames, atoms, 3], row-major; the header's
//   "data_crc32" is the CRC-32 of these bytes.
// docs/dataset-format.md describes every header field.
#pragma once

#include <cstdint>
#include <string>

#include "molearn/data/dataset.hpp"

namespace molearn {

inline constexpr std::uint32_t kDatasetFormatVersion = 1;

// Writes atomically (temporary file + rename). Throws OutputError.
void write_dataset(const Dataset& dataset, const std::string& path);

// Reads and validates a dataset (magic, version, sizes, checksum). With
// `load_coordinates` false only the metadata is read (coords stays empty) and
// the checksum is not verified. Throws FormatError naming the file.
Dataset read_dataset(const std::string& path, bool load_coordinates = true);

// Where a dataset file's coordinates are: for reading its frames on demand
// (DatasetFrameReader) instead of all at once.
struct DatasetDataSection {
  std::uint64_t offset = 0;  // bytes from the start of the file
  std::uint64_t bytes = 0;
  std::uint32_t crc32 = 0;  // of the coordinate bytes, as stored in the header
};

// The metadata of a dataset (coords left empty, the sizes checked against
// the file's) and where its coordinates are. Throws FormatError naming the file.
Dataset read_dataset_metadata(const std::string& path, DatasetDataSection& section);

// Reads every coordinate once and checks the checksum, then that all are
// finite. With `out` (room for frames x atoms x 3 floats) they are kept
// there; without, they go through a small buffer, so that a dataset of any
// size is checked in bounded memory. Throws FormatError naming the file.
void check_dataset_coordinates(const std::string& path, const Dataset& metadata, const DatasetDataSection& section,
                               float* out = nullptr);

// Per-atom topology arrays as stored in the header (also used by checkpoints).
nlohmann::json topology_to_json(const Topology& topology);
// Throws FormatError when the arrays are inconsistent or `atoms` long.
Topology topology_from_json(const nlohmann::json& j, std::size_t atoms);

// The header as stored, for `molearn info --json`.
nlohmann::json read_dataset_header(const std::string& path);

}  // namespace molearn
