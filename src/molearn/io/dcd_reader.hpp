// Streaming reader of DCD trajectories (CHARMM, NAMD, X-PLOR, OpenMM/MDTraj).
//
// A DCD file is a sequence of Fortran unformatted records, each framed by a
// leading and trailing byte count ("marker"):
//   header  : "CORD" + 20 int32 (ICNTRL; ICNTRL[9] is DELTA, a float, or a
//             double over ICNTRL[9..10] in X-PLOR files)
//   title   : int32 NTITLE + NTITLE lines of 80 characters
//   atoms   : int32 NATOM
//   [free]  : NATOM-NAMNF int32 1-based indices, only when NAMNF > 0
//   frames  : [6 doubles unit cell] X[n] Y[n] Z[n] [W[n]] as float32
// Every frame has the same size, except that with fixed atoms the first frame
// stores all atoms and later frames only the free ones. So frame i starts at a
// computable offset: read() fetches a whole frame with one pread() and skip()
// only moves the position.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "molearn/io/trajectory_reader.hpp"

namespace molearn {

class DcdReader : public TrajectoryReader {
 public:
  // Opens `path` and reads its header. Throws InputError if it cannot be
  // opened and FormatError if the header is not a valid DCD header.
  explicit DcdReader(std::string path);
  ~DcdReader() override;

  DcdReader(const DcdReader&) = delete;
  DcdReader& operator=(const DcdReader&) = delete;

  const std::string& path() const override { return path_; }
  std::size_t atom_count() const override { return atom_count_; }

  // Fills xyz, the unit cell (angles in degrees; none when the file has no
  // cell record or stores a zero box) and step = ISTART + i * NSAVC, time_ps =
  // step * DELTA (0 when DELTA is unusable). Throws FormatError on a corrupt
  // record marker, non-finite coordinates or a trailing partial frame.
  bool read(Frame& frame) override;
  // Moves to the next frame without reading it (except frame 0 of a file with
  // fixed atoms, whose coordinates later frames need).
  bool skip() override;
  // Goes back to frame 0: the next read() returns the first frame again.
  void rewind() { position_ = 0; }

  // Complete frames in the file. Computed from the file size, which is
  // reliable, rather than from the header's NSET, which is 0 or stale when the
  // writing program crashed.
  std::optional<std::size_t> frame_count() const override { return frame_count_; }

  // What the header says, for information.
  std::size_t header_frame_count() const { return header_nset_; }
  bool has_unit_cell() const { return has_unit_cell_; }
  std::size_t fixed_atom_count() const { return atom_count_ - free_atoms_count(); }
  bool big_endian() const { return big_endian_; }
  long start_step() const { return start_step_; }
  long step_interval() const { return step_interval_; }
  // MD time step in ps, 0 when the header does not give a usable one.
  double timestep_ps() const { return timestep_ps_; }
  const std::vector<std::string>& title() const { return title_; }

 private:
  std::size_t free_atoms_count() const { return fixed_count_ == 0 ? atom_count_ : free_atoms_.size(); }
  void read_header();
  // Reads one header record starting at `offset` (advanced past it) and
  // returns its payload; `what` names the record in error messages.
  std::vector<unsigned char> read_header_record(std::uint64_t& offset, const char* what);
  std::uint64_t marker_at(const unsigned char* p) const;
  // Reads exactly `size` bytes at `offset`; false if the file ends first.
  bool read_at(std::uint64_t offset, void* data, std::size_t size);
  std::uint64_t frame_offset(std::size_t index) const;
  // Throws the FormatError for a frame cut short by the end of the file.
  [[noreturn]] void fail_truncated(std::size_t index, std::uint64_t available) const;
  void decode_frame(std::size_t index, const unsigned char* data, Frame& frame);

  std::string path_;
  int fd_ = -1;
  std::uint64_t file_size_ = 0;

  // File layout.
  bool swap_ = false;  // file endianness differs from the host's
  bool big_endian_ = false;
  int marker_size_ = 4;  // 4, or 8 for files written with 64-bit record markers
  bool has_unit_cell_ = false;
  bool has_4d_ = false;
  std::size_t atom_count_ = 0;
  std::size_t fixed_count_ = 0;
  std::vector<std::uint32_t> free_atoms_;  // 0-based, only when fixed_count_ > 0
  std::uint64_t header_end_ = 0;
  std::uint64_t first_frame_bytes_ = 0;  // all atoms
  std::uint64_t frame_bytes_ = 0;        // later frames: free atoms only

  // Frame bookkeeping.
  std::size_t frame_count_ = 0;
  bool partial_frame_ = false;  // bytes after the last complete frame
  std::size_t header_nset_ = 0;
  long start_step_ = 0;
  long step_interval_ = 1;
  double timestep_ps_ = 0;
  std::vector<std::string> title_;

  std::vector<unsigned char> buffer_;  // one frame's records, reused
  std::vector<float> fixed_xyz_;       // frame 0, when there are fixed atoms
};

}  // namespace molearn
