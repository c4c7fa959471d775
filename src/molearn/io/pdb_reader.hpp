// Streaming reader of (multi-model) PDB files.
//
// Written by hand rather than through gemmi because gemmi loads the whole file
// into memory and stops at the first END record, while molearn must stream
// trajectories larger than memory and read files whose structures are simply
// separated by END lines (VMD, Python molearn's own test data).
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "molearn/io/line_reader.hpp"
#include "molearn/io/trajectory_reader.hpp"

namespace molearn {

class PdbReader : public TrajectoryReader {
 public:
  // Reads the first model to learn the topology. Throws InputError/FormatError.
  explicit PdbReader(std::string path);

  const std::string& path() const override { return lines_.path(); }
  std::size_t atom_count() const override { return topology_.atom_count(); }
  bool read(Frame& frame) override;

  const Topology& topology() const { return topology_; }

 private:
  // Parses the next model's atoms into `atoms`/`frame`; false if none is left.
  bool read_model(std::vector<Atom>* atoms, Frame& frame);
  [[noreturn]] void fail(const std::string& what) const;

  LineReader lines_;
  Topology topology_;
  std::optional<Frame> first_frame_;  // read by the constructor, handed out first
  std::size_t model_start_line_ = 0;
  std::optional<UnitCell> cell_;
};

// Parses one ATOM/HETATM record. Returns false and sets `error` for malformed
// lines. Keeps the alternate-location indicator in `altloc`.
bool parse_atom_record(std::string_view line, Atom& atom, float xyz[3], char& altloc, std::string& error);

}  // namespace molearn
