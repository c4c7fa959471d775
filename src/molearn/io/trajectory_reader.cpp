#include "molearn/io/trajectory_reader.hpp"

#include <algorithm>
#include <cctype>
#include <filesystem>

#include "molearn/core/error.hpp"
#include "molearn/io/dcd_reader.hpp"
#include "molearn/io/mmcif_reader.hpp"
#include "molearn/io/pdb_reader.hpp"
#include "molearn/io/xtc_reader.hpp"

namespace molearn {

namespace {

std::string lower_extension(std::string path) {
  std::transform(path.begin(), path.end(), path.begin(), [](unsigned char c) { return std::tolower(c); });
  if (path.size() > 3 && path.ends_with(".gz")) path.resize(path.size() - 3);
  return std::filesystem::path(path).extension().string();
}

}  // namespace

TrajectoryFormat format_from_path(const std::string& path) {
  const std::string ext = lower_extension(path);
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
  if (!std::filesystem::exists(path)) throw InputError(path + ": no such file");
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
  return reader;
}

Topology read_topology(const std::string& path) {
  switch (format_from_path(path)) {
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
