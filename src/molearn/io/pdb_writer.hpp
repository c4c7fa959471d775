// Writes frames as a multi-model PDB file (MODEL/ENDMDL), readable by VMD,
// PyMOL, ChimeraX and MDTraj.
//
// Hand-written rather than through gemmi's writer because frames are streamed
// one at a time and gemmi writes a whole in-memory Structure.
#pragma once

#include <string>

#include "molearn/core/atomic_file.hpp"
#include "molearn/io/frame.hpp"
#include "molearn/io/topology.hpp"

namespace molearn {

class PdbWriter {
 public:
  // Nothing appears at `path` until close() succeeds.
  PdbWriter(std::string path, Topology topology);

  // Appends one model. Throws InputError on an atom-count mismatch and
  // OutputError on coordinates that do not fit the PDB columns.
  void write(const Frame& frame);
  // Writes END and moves the file into place.
  void close();

  std::size_t frames_written() const { return models_; }

 private:
  AtomicFile file_;
  Topology topology_;
  std::size_t models_ = 0;
  std::string line_;
};

// Formats one ATOM/HETATM record (80 columns, no newline).
std::string format_atom_record(const Atom& atom, int serial, const float xyz[3]);

}  // namespace molearn
