// The force field's equilibrium geometry for the atoms of a structure: the
// reference against which the geometry metrics measure decoded structures.
#pragma once

#include <cstddef>
#include <vector>

#include "molearn/analysis/conformers.hpp"
#include "molearn/physics/forcefield.hpp"

namespace molearn {

struct IdealGeometry {
  struct Bond {
    std::size_t i, j;  // atom indices of the conformers' topology
    double length;     // Å
  };
  struct Angle {
    std::size_t i, j, k;  // j is the vertex
    double degrees;
  };
  std::vector<Bond> bonds;
  std::vector<Angle> angles;
};

// Bonds and angles among the atoms of `c` with their equilibrium values
// (OpenMM's HarmonicBondForce / HarmonicAngleForce of the system `ff` builds,
// e.g. Amber ff14SB). Templates are reduced to the atom names present for
// structures without hydrogens (as `molearn relax` does for generated
// structures); with hydrogens every atom of the template must be there.
// Chain ends come from c.termini, and consecutive residues of one chain are
// peptide-bonded whatever their C-N distance in the first frame (decoded
// structures stretch it). Residues that are not protein (water, ligands)
// are left out; a residue alone in its chain (no force field has a template
// for that) is measured against its interior (or, with OXT, C-terminal)
// template.
// Throws InputError naming the residue when a residue matches no template.
IdealGeometry ideal_geometry(const ForceField& ff, const Conformers& c);

}  // namespace molearn
