// Coordinates of a structure file in the atom order of another topology: the
// endpoints of `molearn path` (a crystal structure of each end state) and the
// reference of `molearn score --metrics rmsd:REF` come from files whose atoms
// need not be in the same order, nor hold only the atoms we need.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "molearn/io/topology.hpp"

namespace molearn {

// Reads frame `frame` of `structure_path` (with `topology_path` for formats
// without a topology, DCD and XTC; ignored for PDB and mmCIF) and returns its coordinates (Å) in the atom order of
// `target`. Atoms are matched by chain, residue number, insertion code and atom
// name; residue names are canonicalised and CHARMM's terminal oxygens renamed
// as read_conformers does, and must agree too. Chains: matched by identifier
// when every chain of `target` exists in the file, else by their order of
// appearance (files written without chain identifiers, or relabelled ones).
// Throws InputError naming the file and listing (up to 10 of) the atoms of
// `target` it lacks, or when `frame` is beyond its last frame.
std::vector<float> coordinates_in_topology_order(const Topology& target, const std::string& structure_path,
                                                 const std::string& topology_path = "", std::size_t frame = 0);

}  // namespace molearn
