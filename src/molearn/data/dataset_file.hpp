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

// Per-atom topology arrays as stored in the header (also used by checkpoints).
nlohmann::json topology_to_json(const Topology& topology);
// Throws FormatError when the arrays are inconsistent or `atoms` long.
Topology topology_from_json(const nlohmann::json& j, std::size_t atoms);

// The header as stored, for `molearn info --json`.
nlohmann::json read_dataset_header(const std::string& path);

}  // namespace molearn
