// Atom selections: which atoms of a topology go into a dataset.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "molearn/io/topology.hpp"

namespace molearn {

// A selection as the user writes it on the command line.
//   atoms:    comma-separated atom names of amino-acid residues ("N,CA,CB,C,O",
//             molearn's default), or one keyword:
//               backbone  N, CA, C, O of amino acids
//               heavy     every non-hydrogen atom of protein residues (caps included)
//               protein   every atom of protein residues (caps included)
//               all       every atom, ligands and water included
//   residues: optional residue-number ranges, e.g. "1-100,120,200-250", each
//             optionally prefixed by a chain, e.g. "A:1-100,B:5-20".
//   remove_hydrogens: drop hydrogens whatever `atoms` says.
// Ligands and water are never part of name, backbone, heavy or protein
// selections.
struct SelectionSpec {
  std::string atoms = "N,CA,CB,C,O";
  std::string residues;
  bool remove_hydrogens = false;
};

// Indices (in file order) of the atoms `spec` selects. Throws SelectionError
// when the spec cannot be parsed or selects nothing.
std::vector<std::size_t> select_atoms(const Topology& topology, const SelectionSpec& spec);

bool is_hydrogen(const Atom& atom);

// Python molearn's fix_terminal: CHARMM names the C-terminal oxygens OT1/OT2
// (GROMACS OC1/OC2, some tools OCT1/OCT2); the first becomes O (so that an
// N,CA,CB,C,O selection keeps the terminal oxygen) and the second OXT (the
// name Amber/PDB templates use).
void rename_terminal_oxygens(Topology& topology);

// Applies canonical_residue_name (HIS/HSE/HSD -> HIE, HSP -> HIP) to every atom.
void canonicalise_residue_names(Topology& topology);

}  // namespace molearn
