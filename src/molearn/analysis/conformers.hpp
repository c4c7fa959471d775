// The input of every metric: frames of one topology in Å, with the chain ends
// known. No torch: decoded structures are converted to this once.
#pragma once

#include <cstddef>
#include <span>
#include <string>
#include <vector>

#include "molearn/data/polymer.hpp"
#include "molearn/io/topology.hpp"

namespace molearn {

struct Conformers {
  Topology topology;
  // One per residue (Topology::residues() order). Decoded structures have
  // stretched bonds, so chain ends come from the training topology or from
  // the chain identifiers, never from the geometry of each frame.
  std::vector<ResidueTermini> termini;
  std::size_t frame_count = 0;
  std::vector<float> xyz;  // [frame][atom][xyz] in Å
  std::string source;      // the file they were read from, for messages ("" for decoded structures)

  std::size_t atom_count() const { return topology.atom_count(); }
  std::span<const float> frame(std::size_t i) const { return {xyz.data() + i * atom_count() * 3, atom_count() * 3}; }
};

// Where the chain ends of a structure file come from.
enum class ChainEnds {
  Chains,    // first and last protein residue of each chain identifier (default)
  Geometry,  // C-N distances of the first frame (find_termini)
};

// Reads every frame of a structure or trajectory (PDB, mmCIF, DCD, XTC with
// `topology_path`), keeping the atoms of `atoms` (a selection as `molearn
// prepare --atoms` takes it; empty: every atom). Residue names are
// canonicalised and CHARMM's terminal oxygens renamed, as `prepare` does.
// Throws InputError / FormatError naming the file and the frame.
Conformers read_conformers(const std::string& path, const std::string& topology_path = "",
                           const std::string& atoms = "", ChainEnds ends = ChainEnds::Chains);

}  // namespace molearn
