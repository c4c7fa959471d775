#include "molearn/analysis/structure_matching_to_topology.hpp"

#include <algorithm>
#include <map>
#include <tuple>

#include "molearn/core/error.hpp"
#include "molearn/data/selection.hpp"
#include "molearn/io/trajectory_reader.hpp"

namespace molearn {

namespace {

using AtomKey = std::tuple<std::string, int, char, std::string, std::string>;  // chain, seq, ins, res, atom

std::vector<std::string> chains_in_order(const Topology& t) {
  std::vector<std::string> out;
  for (const Atom& a : t.atoms())
    if (std::find(out.begin(), out.end(), a.chain) == out.end()) out.push_back(a.chain);
  return out;
}

// Target chain -> file chain: by identifier when the file has every chain of
// the target, else the k-th chain of one is the k-th chain of the other.
std::map<std::string, std::string> chain_mapping(const Topology& target, const Topology& file) {
  const std::vector<std::string> wanted = chains_in_order(target), present = chains_in_order(file);
  std::map<std::string, std::string> out;
  const bool by_name = std::all_of(wanted.begin(), wanted.end(), [&](const std::string& c) {
    return std::find(present.begin(), present.end(), c) != present.end();
  });
  for (std::size_t k = 0; k < wanted.size(); ++k)
    out[wanted[k]] = by_name ? wanted[k] : k < present.size() ? present[k] : std::string("\x01missing");
  return out;
}

std::string describe(const Atom& a) {
  std::string s = a.chain.empty() ? "" : a.chain + ":";
  s += a.res_name + " " + std::to_string(a.res_seq);
  if (a.ins_code != ' ') s += a.ins_code;
  return s + " " + a.name;
}

std::vector<float> read_frame(const std::string& path, const Topology& topology, std::size_t index) {
  auto reader = open_trajectory(path, &topology);
  for (std::size_t k = 0; k < index; ++k)
    if (!reader->skip())
      throw InputError(path + ": frame " + std::to_string(index) + " asked for, but the file has only " +
                       std::to_string(k) + " frame(s)");
  Frame frame;
  if (!reader->read(frame))
    throw InputError(path + ": frame " + std::to_string(index) + " asked for, but the file has only " +
                     std::to_string(index) + " frame(s)");
  return std::move(frame.xyz);
}

// Protonation and force-field variants of one amino acid are the same
// residue for matching coordinates: a crystal structure's HIS is an MD
// topology's HID, HIE or HIP (and CYS is CYX, ASP is ASH, ...).
std::string residue_for_matching(const std::string& res_name) {
  static const std::map<std::string, std::string> parent = {
      {"HIE", "HIS"}, {"HID", "HIS"}, {"HIP", "HIS"}, {"HSD", "HIS"}, {"HSE", "HIS"}, {"HSP", "HIS"},
      {"CYX", "CYS"}, {"CYM", "CYS"}, {"ASH", "ASP"}, {"GLH", "GLU"}, {"LYN", "LYS"}};
  const auto it = parent.find(res_name);
  return it == parent.end() ? res_name : it->second;
}

}  // namespace

std::vector<float> coordinates_in_topology_order(const Topology& target, const std::string& structure_path,
                                                 const std::string& topology_path, std::size_t frame) {
  // A PDB/mmCIF carries its own topology: `topology_path` (e.g. the --top of
  // the trajectories the structure is compared with) is only for DCD/XTC.
  const bool own_topology = format_has_topology(format_from_path(structure_path));
  Topology file = read_topology_for(structure_path, own_topology ? std::string() : topology_path);
  rename_terminal_oxygens(file);
  canonicalise_residue_names(file);
  const std::vector<float> xyz = read_frame(structure_path, file, frame);

  // The first atom of each key wins (alternate locations, duplicated records).
  std::map<AtomKey, std::size_t> index;
  for (std::size_t i = 0; i < file.atom_count(); ++i) {
    const Atom& a = file.atom(i);
    index.emplace(AtomKey{a.chain, a.res_seq, a.ins_code, residue_for_matching(a.res_name), a.name}, i);
  }
  const auto chains = chain_mapping(target, file);

  std::vector<float> out(3 * target.atom_count());
  std::vector<std::string> missing;
  std::size_t missing_count = 0;
  for (std::size_t i = 0; i < target.atom_count(); ++i) {
    const Atom& a = target.atom(i);
    const auto found =
        index.find(AtomKey{chains.at(a.chain), a.res_seq, a.ins_code, residue_for_matching(a.res_name), a.name});
    if (found == index.end()) {
      if (missing.size() < 10) missing.push_back(describe(a));
      ++missing_count;
      continue;
    }
    std::copy_n(&xyz[3 * found->second], 3, &out[3 * i]);
  }
  if (missing_count > 0) {
    std::string list;
    for (const std::string& m : missing) list += (list.empty() ? "" : ", ") + m;
    if (missing_count > missing.size()) list += ", ...";
    throw InputError(structure_path + ": lacks " + std::to_string(missing_count) + " of the " +
                     std::to_string(target.atom_count()) + " atoms of the topology (matched by chain, residue " +
                     "number, insertion code, residue and atom name): " + list);
  }
  return out;
}

}  // namespace molearn
