// Template matching for molearn's two kinds of input: a structure file (all
// its atoms, or a selection of them) and a prepared dataset (.mlds).
#pragma once

#include <optional>
#include <span>
#include <string>

#include "molearn/data/dataset.hpp"
#include "molearn/io/topology.hpp"
#include "molearn/physics/template_matching.hpp"

namespace molearn {

// Matches the atoms of a structure. Without `atoms`: every residue the force
// field has a template name for, with all its atoms (full-atom; water and
// ions without templates are left out and listed in `skipped`). With `atoms`
// (a selection as `molearn prepare --atoms` takes it): those atoms, against
// templates reduced to them. Termini are found on the whole structure, so a
// selection never creates chain ends. MatchedAtom::source indexes `topology`.
// Where chains end: from the geometry (C-N > 2 A, the default) or from the
// chain identifiers (for generated structures whose bonds may be stretched).
enum class TerminiSource { Geometry, Chains };

MatchedTopology match_structure(const ForceField& ff, const Topology& topology, std::span<const float> xyz_angstrom,
                                const std::optional<std::string>& atoms = std::nullopt,
                                TerminiSource termini = TerminiSource::Geometry);

// The same with the chain ends given (one per residue of `topology`), e.g.
// those of a model's training topology.
MatchedTopology match_structure(const ForceField& ff, const Topology& topology, std::span<const float> xyz_angstrom,
                                const std::optional<std::string>& atoms, const std::vector<ResidueTermini>& termini);

// Generated conformers hold only the model's atoms (e.g. N, CA, CB, C, O) and
// no hydrogens, so full templates cannot match them: for a structure without
// hydrogens this gives the atom names it has (a selection for match_structure,
// which then reduces the templates to them); nullopt when it has hydrogens.
std::optional<std::string> atom_names_without_hydrogens(const Topology& topology);

// Matches the atoms of a dataset against templates reduced to the dataset's
// selection (its "atoms" and "remove_hydrogens" settings), with the termini
// stored in it. Needs the dataset's coordinates (frame 0 decides disulfides
// and chain breaks). MatchedAtom::source indexes the dataset's atoms.
MatchedTopology match_dataset(const ForceField& ff, const Dataset& dataset);

}  // namespace molearn
