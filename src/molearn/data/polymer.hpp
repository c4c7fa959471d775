// Where protein chains really begin and end.
#pragma once

#include <span>
#include <vector>

#include "molearn/io/topology.hpp"

namespace molearn {

// For each residue of a topology (Topology::residues() order): whether it
// starts or ends a polymer chain. Two consecutive protein residues are bonded
// when the C of the first lies within 2 Å of the N of the second (a peptide
// bond is 1.33 Å); so a missing loop is a chain end even without a TER record,
// and a TER record inside a continuous chain is not. Where C or N is missing
// (e.g. CA-only models) residues are bonded when they share a chain and their
// numbers are consecutive. Non-protein residues are neither.
struct ResidueTermini {
  bool n_terminal = false;
  bool c_terminal = false;
};

std::vector<ResidueTermini> find_termini(const Topology& topology, std::span<const float> xyz);

// Termini from the chain identifiers alone: the first and the last protein
// residue of each run of residues sharing a chain. For structures whose
// geometry cannot be trusted to show the chain's bonds (conformers decoded by
// a model early in training), where the topology is known to be right.
std::vector<ResidueTermini> termini_from_chains(const Topology& topology);

}  // namespace molearn
