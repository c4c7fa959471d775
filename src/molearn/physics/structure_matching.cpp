#include "molearn/physics/structure_matching.hpp"

#include <set>

#include "molearn/core/error.hpp"
#include "molearn/data/polymer.hpp"
#include "molearn/data/selection.hpp"
#include "molearn/io/residue_names.hpp"
#include "molearn/physics/pdb_names.hpp"

namespace molearn {

MatchedTopology match_structure(const ForceField& ff, const Topology& topology, std::span<const float> xyz,
                                const std::optional<std::string>& atoms, TerminiSource termini) {
  if (xyz.size() != 3 * topology.atom_count())
    throw InputError("structure has " + std::to_string(topology.atom_count()) + " atoms but " +
                     std::to_string(xyz.size() / 3) + " coordinates");
  return match_structure(
      ff, topology, xyz, atoms,
      termini == TerminiSource::Chains ? termini_from_chains(topology) : find_termini(topology, xyz));
}

std::optional<std::string> atom_names_without_hydrogens(const Topology& topology) {
  std::set<std::string> names;
  for (const Atom& atom : topology.atoms()) {
    if (is_hydrogen(atom)) return std::nullopt;
    names.insert(atom.name);
  }
  std::string atoms;
  for (const auto& n : names) atoms += (atoms.empty() ? "" : ",") + n;
  return atoms;
}

MatchedTopology match_structure(const ForceField& ff, const Topology& topology, std::span<const float> xyz,
                                const std::optional<std::string>& atoms,
                                const std::vector<ResidueTermini>& all_termini) {
  if (xyz.size() != 3 * topology.atom_count())
    throw InputError("structure has " + std::to_string(topology.atom_count()) + " atoms but " +
                     std::to_string(xyz.size() / 3) + " coordinates");
  if (all_termini.size() != topology.residue_count())
    throw Error("chain ends of " + std::to_string(all_termini.size()) + " residues given for a structure of " +
                std::to_string(topology.residue_count()));
  TemplateOptions options;
  if (!atoms) {
    options.skip_residues_without_template = true;
    options.termini = all_termini;
    return match_templates(ff, topology, xyz, options);
  }
  // The selection applies to OpenMM's standard names, so that N,CA,CB,C,O
  // keeps a C-terminal oxygen named OT1 (CHARMM) or OC1 (GROMACS) too.
  Topology standard = topology;
  const PdbNames& pdb = PdbNames::standard();
  for (Atom& a : standard.atoms())
    if (is_protein_residue(pdb.residue(a.res_name))) a.name = pdb.atom(a.res_name, a.name);
  const std::vector<std::size_t> selected = select_atoms(standard, SelectionSpec{*atoms, "", false});
  const Topology subset = standard.subset(selected);
  std::vector<float> subset_xyz;
  subset_xyz.reserve(3 * selected.size());
  for (std::size_t i : selected) subset_xyz.insert(subset_xyz.end(), &xyz[3 * i], &xyz[3 * i] + 3);

  // Termini of the whole structure, carried to the residues of the selection
  // (each selected residue starts at some atom of a whole residue).
  std::vector<std::size_t> residue_of(topology.atom_count());
  const std::vector<Residue> residues = topology.residues();
  for (std::size_t r = 0; r < residues.size(); ++r)
    for (std::size_t k = 0; k < residues[r].atom_count; ++k) residue_of[residues[r].first_atom + k] = r;
  for (const Residue& r : subset.residues()) options.termini.push_back(all_termini[residue_of[selected[r.first_atom]]]);

  options.filter = TemplateAtomFilter::from_selection(*atoms);
  MatchedTopology matched = match_templates(ff, subset, subset_xyz, options);
  for (MatchedAtom& a : matched.atoms) a.source = selected[a.source];
  return matched;
}

MatchedTopology match_dataset(const ForceField& ff, const Dataset& dataset) {
  if (dataset.frame_count == 0 || dataset.coords.empty())
    throw InputError("the dataset's coordinates are needed to build its system (chain breaks, disulfides)");
  TemplateOptions options;
  options.termini = dataset.termini;
  // Datasets written before the selection was recorded: the atom names they hold.
  std::string atoms = dataset.settings.value("atoms", "");
  if (atoms.empty()) {
    std::set<std::string> names;
    for (const Atom& a : dataset.topology.atoms()) names.insert(a.name);
    for (const auto& n : names) atoms += (atoms.empty() ? "" : ",") + n;
  }
  options.filter = TemplateAtomFilter::from_selection(atoms, dataset.settings.value("remove_hydrogens", false));
  const std::vector<float> xyz = dataset.frame_in_angstrom(0);
  return match_templates(ff, dataset.topology, xyz, options);
}

}  // namespace molearn
