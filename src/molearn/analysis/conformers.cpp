#include "molearn/analysis/conformers.hpp"

#include "molearn/core/error.hpp"
#include "molearn/data/selection.hpp"
#include "molearn/io/trajectory_reader.hpp"

namespace molearn {

Conformers read_conformers(const std::string& path, const std::string& topology_path, const std::string& atoms,
                           ChainEnds ends) {
  Topology full = read_topology_for(path, topology_path);
  rename_terminal_oxygens(full);
  canonicalise_residue_names(full);
  std::vector<std::size_t> selected;
  if (atoms.empty()) {
    selected.resize(full.atom_count());
    for (std::size_t i = 0; i < selected.size(); ++i) selected[i] = i;
  } else {
    selected = select_atoms(full, SelectionSpec{atoms, "", false});
  }
  Conformers out;
  out.source = path;
  out.topology = full.subset(selected);
  auto reader = open_trajectory(path, &full);
  if (const auto frames = reader->frame_count()) out.xyz.reserve(*frames * selected.size() * 3);
  Frame frame;
  while (reader->read(frame)) {
    for (std::size_t i : selected) out.xyz.insert(out.xyz.end(), &frame.xyz[3 * i], &frame.xyz[3 * i] + 3);
    ++out.frame_count;
  }
  if (out.frame_count == 0) throw FormatError(path + ": contains no frames");
  out.termini =
      ends == ChainEnds::Chains ? termini_from_chains(out.topology) : find_termini(out.topology, out.frame(0));
  return out;
}

}  // namespace molearn
