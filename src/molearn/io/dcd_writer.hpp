// Writes DCD trajectories in the little-endian CHARMM layout that OpenMM and
// MDTraj write and VMD, MDTraj, MDAnalysis and CHARMM/NAMD tools read.
//
// The file is written under a temporary name and moved into place by close(),
// so an interrupted run never leaves a truncated trajectory behind.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "molearn/core/atomic_file.hpp"
#include "molearn/io/frame.hpp"

namespace molearn {

struct DcdWriterOptions {
  bool with_unit_cell = false;  // write a unit cell record with every frame
  double timestep_ps = 1.0;     // MD time step, stored in AKMA units (0: unknown)
  int start_step = 0;           // MD step of the first frame (ISTART)
  int step_interval = 1;        // MD steps between frames (NSAVC)
};

class DcdWriter {
 public:
  // Creates the temporary file and writes the header. Throws InputError for
  // invalid options and OutputError if the file cannot be created.
  DcdWriter(std::string path, std::size_t atom_count, DcdWriterOptions options = {});
  // Without close() the temporary file is removed and nothing appears at path.
  ~DcdWriter() = default;

  DcdWriter(const DcdWriter&) = delete;
  DcdWriter& operator=(const DcdWriter&) = delete;

  // Appends a frame. Its time and step are not stored (DCD derives them from
  // the header). Throws InputError if the atom count differs, a coordinate is
  // not finite or beyond +-1e5 A (what the readers refuse), or the writer wants
  // a unit cell and the frame has none.
  // The frame's unit cell is ignored when with_unit_cell is false.
  void write(const Frame& frame);

  // Pushes the frames written so far into the temporary file, so that a
  // process killed afterwards (kill -9) leaves them readable there: simulate
  // flushes before each checkpoint, and --resume reads them back. Throws
  // OutputError when a write failed.
  void flush();

  // Writes the frame count into the header and moves the file into place.
  // Throws OutputError if anything could not be written.
  void close();

  const std::string& path() const { return file_.path(); }
  std::size_t atom_count() const { return atom_count_; }
  std::size_t frames_written() const { return frames_; }

 private:
  void check_stream();

  AtomicFile file_;
  std::size_t atom_count_;
  DcdWriterOptions options_;
  std::size_t frames_ = 0;
  bool closed_ = false;
  std::vector<unsigned char> buffer_;  // one frame's records, reused
};

}  // namespace molearn
