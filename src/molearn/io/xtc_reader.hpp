// Streaming reader for GROMACS XTC trajectories (compressed coordinates in
// nm, XDR big-endian records). The bit-level decoder is in xtc_compression.hpp.
//
// Each frame is one record:
//   int magic (1995), int natoms, int step, float time (ps),
//   float box[3][3] (nm, rows are the box vectors), int natoms,
//   natoms <= 9:  float xyz[natoms][3] (nm), uncompressed;
//   otherwise:    float precision, int minint[3], int maxint[3], int smallidx,
//                 int nbytes, nbytes of packed data, zero-padded to 4 bytes.
// There is no file header and no frame index, so the frame count is unknown
// without reading every record header.
#pragma once

#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "molearn/io/trajectory_reader.hpp"
#include "molearn/io/xtc_compression.hpp"

namespace molearn {

class XtcReader : public TrajectoryReader {
 public:
  // Opens `path` and reads the first frame header to learn the atom count.
  // Throws InputError if the file cannot be opened, FormatError if it does
  // not start with an XTC frame.
  explicit XtcReader(std::string path);

  const std::string& path() const override { return path_; }
  std::size_t atom_count() const override { return natoms_; }

  // Coordinates converted to Å, the box to a UnitCell (none if the box is all
  // zero). Throws FormatError naming the file and "frame N (0-based)" on
  // truncated or corrupt records; the reader is unusable afterwards.
  bool read(Frame& frame) override;

  // Checks the record header and seeks over the coordinates without decoding.
  bool skip() override;

 private:
  // What a record header says, besides the atom count.
  struct RecordHeader {
    std::int32_t step = 0;
    float time = 0;
    float box[9] = {};
    xtc::CompressedHeader packing;  // compressed records only
    std::uint32_t nbytes = 0;       // packed bytes, without padding
  };

  // Reads the header of the next record (for natoms <= 9 the coordinates
  // too, into header_bytes_). False at a clean end of file.
  bool read_record_header(RecordHeader& h);
  // Throws FormatError "path: frame N (0-based): what" and marks the reader
  // as failed.
  [[noreturn]] void fail(const std::string& what);
  void check_usable() const;
  std::uint64_t bytes_remaining();

  struct FileCloser {
    void operator()(std::FILE* f) const { std::fclose(f); }
  };

  std::string path_;
  std::unique_ptr<std::FILE, FileCloser> file_;
  std::size_t natoms_ = 0;
  std::uint64_t file_size_ = 0;
  std::uint64_t offset_ = 0;                // of the next unread byte
  std::string error_;                       // set once reading has failed
  std::vector<std::uint8_t> header_bytes_;  // one record header (+ small-system coordinates)
  std::vector<std::uint8_t> packed_;        // compressed block, reused across frames
};

}  // namespace molearn
