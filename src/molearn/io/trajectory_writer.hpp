// Writing frames to a file whose format follows from its extension.
#pragma once

#include <memory>
#include <string>

#include "molearn/io/frame.hpp"
#include "molearn/io/topology.hpp"

namespace molearn {

class TrajectoryWriter {
 public:
  virtual ~TrajectoryWriter() = default;
  virtual void write(const Frame& frame) = 0;
  // Finishes the file and moves it into place; before that nothing is visible
  // at the path, and a writer destroyed without close() leaves nothing.
  virtual void close() = 0;
};

// .pdb: multi-model PDB; .dcd: DCD (CHARMM flavour, little-endian). Throws
// InputError for other extensions.
std::unique_ptr<TrajectoryWriter> open_trajectory_writer(const std::string& path, const Topology& topology);

}  // namespace molearn
