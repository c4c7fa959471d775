// Streaming access to the frames of a structure or trajectory file.
#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <string>

#include "molearn/io/frame.hpp"
#include "molearn/io/topology.hpp"

namespace molearn {

// Reads frames one at a time, so a trajectory larger than memory can be
// processed. Implementations throw FormatError naming the file and the frame
// when the data are truncated or corrupt.
class TrajectoryReader {
 public:
  virtual ~TrajectoryReader() = default;

  virtual const std::string& path() const = 0;
  virtual std::size_t atom_count() const = 0;

  // Reads the next frame into `frame` (reusing its storage). Returns false at
  // a clean end of file.
  virtual bool read(Frame& frame) = 0;

  // Skips the next frame, cheaply where the format allows. False at the end.
  virtual bool skip() {
    Frame scratch;
    return read(scratch);
  }

  // Total frame count when the format tells it without a full read.
  virtual std::optional<std::size_t> frame_count() const { return std::nullopt; }

  // Frames read or skipped so far (the index of the next frame).
  std::size_t position() const { return position_; }

 protected:
  std::size_t position_ = 0;
};

// Trajectory formats molearn reads.
enum class TrajectoryFormat { Pdb, Mmcif, Dcd, Xtc };

// A file name's last extension, lower-cased, with its dot ("" if none).
std::string lower_case_extension(const std::string& path);

// Guesses the format from the file extension (.pdb/.ent, .cif/.mmcif, .dcd,
// .xtc, optionally .gz for text formats). Throws InputError for anything else.
TrajectoryFormat format_from_path(const std::string& path);

// True for formats that carry their own topology (PDB, mmCIF).
bool format_has_topology(TrajectoryFormat format);

// Opens `path` for streaming. For formats without topology (DCD, XTC) the
// atom count is checked against `topology`, if given.
std::unique_ptr<TrajectoryReader> open_trajectory(const std::string& path, const Topology* topology = nullptr);

// Reads the topology of a structure file (first model of a PDB or mmCIF).
Topology read_topology(const std::string& path);

// The topology of `input`: read from `topology_path` when given, else from
// `input` itself, which must then be a PDB or mmCIF file (InputError
// otherwise, asking for --top).
Topology read_topology_for(const std::string& input, const std::string& topology_path);

}  // namespace molearn
