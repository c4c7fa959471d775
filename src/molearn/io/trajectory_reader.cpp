#include "molearn/io/trajectory_reader.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <filesystem>

#include "molearn/core/error.hpp"
#include "molearn/io/dcd_reader.hpp"
#include "molearn/io/mmcif_reader.hpp"
#include "molearn/io/pdb_reader.hpp"
#include "molearn/io/xtc_reader.hpp"

namespace molearn {

namespace {

void check_is_file(const std::string& path) {
  if (!std::filesystem::exists(path)) throw InputError(path + ": no such file");
  if (std::filesystem::is_directory(path)) throw InputError(path + ": is a folder, not a file");
}

void check_coordinates(const Frame& frame, const Topology* topology, const std::string& path, std::size_t index) {
  for (std::size_t k = 0; k < frame.xyz.size(); ++k) {
    const float value = frame.xyz[k];
    if (std::isfinite(value) && std::abs(value) <= kMaxCoordinate) continue;
    std::string atom = "atom " + std::to_string(k / 3 + 1);
    if (topology && k / 3 < topology->atom_count()) {
      const Atom& a = topology->atom(k / 3);
      atom += " (" + a.name + " of " + a.res_name + " " + std::to_string(a.res_seq) +
              (a.chain.empty() ? "" : ", chain " + a.chain) + ")";
    }
    char shown[32];
    std::snprintf(shown, sizeof shown, "%g", static_cast<double>(value));
    throw FormatError(path + ": frame " + std::to_string(index) + " (0-based): " + atom +
                      (std::isfinite(value) ? " has the coordinate " + std::string(shown) +
                                                  " A, beyond the physical bound of +-1e5 A (a damaged file?)"
                                            : " has a non-finite coordinate"));
  }
}

// Every reader open_trajectory() returns: checks each frame's coordinates
// (finite, within kMaxCoordinate) for all formats and all commands.
class CheckedReader : public TrajectoryReader {
 public:
  CheckedReader(std::unique_ptr<TrajectoryReader> reader, const Topology* topology)
      : reader_(std::move(reader)), topology_(topology) {}

  const std::string& path() const override { return reader_->path(); }
  std::size_t atom_count() const override { return reader_->atom_count(); }
  std::optional<std::size_t> frame_count() const override { return reader_->frame_count(); }

  bool read(Frame& frame) override {
    const std::size_t index = reader_->position();
    const bool more = reader_->read(frame);
    position_ = reader_->position();
    if (more) check_coordinates(frame, topology_, path(), index);
    return more;
  }

  bool skip() override {
    const bool more = reader_->skip();
    position_ = reader_->position();
    return more;
  }

 private:
  std::unique_ptr<TrajectoryReader> reader_;
  const Topology* topology_;
};

}  // namespace

std::string lower_case_extension(const std::string& path) {
  std::string ext = std::filesystem::path(path).extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
  return ext;
}

TrajectoryFormat format_from_path(const std::string& path) {
  const bool gzip = lower_case_extension(path) == ".gz";
  const std::string ext = lower_case_extension(gzip ? path.substr(0, path.size() - 3) : path);
  if (ext == ".pdb" || ext == ".ent") return TrajectoryFormat::Pdb;
  if (ext == ".cif" || ext == ".mmcif") return TrajectoryFormat::Mmcif;
  if (ext == ".dcd") return TrajectoryFormat::Dcd;
  if (ext == ".xtc") return TrajectoryFormat::Xtc;
  throw InputError(path + ": unknown file type '" + ext +
                   "' (expected .pdb, .ent, .cif, .mmcif, .dcd or .xtc; .gz allowed for PDB and mmCIF)");
}

bool format_has_topology(TrajectoryFormat format) {
  return format == TrajectoryFormat::Pdb || format == TrajectoryFormat::Mmcif;
}

std::unique_ptr<TrajectoryReader> open_trajectory(const std::string& path, const Topology* topology) {
  const TrajectoryFormat format = format_from_path(path);
  check_is_file(path);
  std::unique_ptr<TrajectoryReader> reader;
  switch (format) {
    case TrajectoryFormat::Pdb:
      reader = std::make_unique<PdbReader>(path);
      break;
    case TrajectoryFormat::Mmcif:
      reader = std::make_unique<MmcifReader>(path);
      break;
    case TrajectoryFormat::Dcd:
      reader = std::make_unique<DcdReader>(path);
      break;
    case TrajectoryFormat::Xtc:
      reader = std::make_unique<XtcReader>(path);
      break;
  }
  if (topology && reader->atom_count() != topology->atom_count())
    throw FormatError(path + ": has " + std::to_string(reader->atom_count()) +
                      " atoms per frame but the topology has " + std::to_string(topology->atom_count()) +
                      " (is it the right topology file?)");
  return std::make_unique<CheckedReader>(std::move(reader), topology);
}

Topology read_topology(const std::string& path) {
  const TrajectoryFormat format = format_from_path(path);
  check_is_file(path);
  switch (format) {
    case TrajectoryFormat::Pdb:
      return PdbReader(path).topology();
    case TrajectoryFormat::Mmcif:
      return MmcifReader(path).topology();
    default:
      throw InputError(path + ": a topology must be a PDB or mmCIF file (DCD and XTC hold only coordinates)");
  }
}

Topology read_topology_for(const std::string& input, const std::string& topology_path) {
  if (!topology_path.empty()) return read_topology(topology_path);
  if (!format_has_topology(format_from_path(input)))
    throw InputError(input + ": this file holds coordinates only; give its topology with --top (a PDB or mmCIF file)");
  return read_topology(input);
}

}  // namespace molearn
