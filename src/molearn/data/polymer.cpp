#include "molearn/data/polymer.hpp"

#include <optional>

#include "molearn/io/residue_names.hpp"

namespace molearn {

namespace {

constexpr double kMaxPeptideBond = 2.0;  // Å

std::optional<std::size_t> find_atom(const Topology& topology, const Residue& residue, const char* name) {
  for (std::size_t i = residue.first_atom; i < residue.first_atom + residue.atom_count; ++i)
    if (topology.atom(i).name == name) return i;
  return std::nullopt;
}

bool bonded(const Topology& topology, std::span<const float> xyz, const Residue& a, const Residue& b) {
  const Atom& first = topology.atom(a.first_atom);
  const Atom& second = topology.atom(b.first_atom);
  const auto c = find_atom(topology, a, "C");
  const auto n = find_atom(topology, b, "N");
  if (!c || !n) return first.chain == second.chain && second.res_seq == first.res_seq + 1;
  double d2 = 0;
  for (int k = 0; k < 3; ++k) {
    const double d = static_cast<double>(xyz[3 * *c + k]) - xyz[3 * *n + k];
    d2 += d * d;
  }
  return d2 <= kMaxPeptideBond * kMaxPeptideBond;
}

}  // namespace

std::vector<ResidueTermini> termini_from_chains(const Topology& topology) {
  const std::vector<Residue> residues = topology.residues();
  std::vector<ResidueTermini> termini(residues.size());
  std::optional<std::size_t> previous;
  for (std::size_t r = 0; r < residues.size(); ++r) {
    const Atom& atom = topology.atom(residues[r].first_atom);
    if (!is_protein_residue(atom.res_name)) {
      if (previous) termini[*previous].c_terminal = true;
      previous.reset();
      continue;
    }
    if (!previous || topology.atom(residues[*previous].first_atom).chain != atom.chain) {
      termini[r].n_terminal = true;
      if (previous) termini[*previous].c_terminal = true;
    }
    previous = r;
  }
  if (previous) termini[*previous].c_terminal = true;
  return termini;
}

std::vector<ResidueTermini> find_termini(const Topology& topology, std::span<const float> xyz) {
  const std::vector<Residue> residues = topology.residues();
  std::vector<ResidueTermini> termini(residues.size());
  std::optional<std::size_t> previous;  // previous protein residue
  for (std::size_t r = 0; r < residues.size(); ++r) {
    if (!is_protein_residue(topology.atom(residues[r].first_atom).res_name)) {
      if (previous) termini[*previous].c_terminal = true;
      previous.reset();
      continue;
    }
    if (!previous || !bonded(topology, xyz, residues[*previous], residues[r])) {
      termini[r].n_terminal = true;
      if (previous) termini[*previous].c_terminal = true;
    }
    previous = r;
  }
  if (previous) termini[*previous].c_terminal = true;
  return termini;
}

}  // namespace molearn
