// The backbone of every residue of a topology (atom indices of N, CA, C, O,
// CB) and the dihedral angles that follow from it. Shared by the Ramachandran,
// geometry and dihedral metrics.
#pragma once

#include <cstddef>
#include <span>
#include <string>
#include <vector>

#include "molearn/analysis/conformers.hpp"

namespace molearn {

inline constexpr long kNoAtom = -1;

struct ResidueBackbone {
  std::string res_name;  // as in the topology (canonicalised by read_conformers)
  std::string chain;
  int res_seq = 0;
  char ins_code = ' ';
  bool amino_acid = false;
  long n = kNoAtom, ca = kNoAtom, c = kNoAtom, o = kNoAtom, cb = kNoAtom;  // atom indices
  // Peptide-bonded to the neighbouring residue: both amino acids, no chain
  // end between them (from Conformers::termini, never from the geometry).
  bool bonded_to_previous = false;
  bool bonded_to_next = false;
};

// One entry per residue of conformers.topology (Topology::residues() order).
std::vector<ResidueBackbone> backbone_of(const Conformers& conformers);

// Dihedral angle a-b-c-d in degrees, in (-180, 180], IUPAC sign (as MDTraj
// and OpenMM); NaN when a coordinate is not finite or three points are
// collinear. Each point is x y z.
double dihedral_degrees(const float* a, const float* b, const float* c, const float* d);

// Backbone dihedrals of one frame, per residue, in degrees; NaN where an atom
// is missing or the residue is not bonded to the neighbour the angle needs.
//   phi[i]   = C(i-1) N(i) CA(i) C(i)
//   psi[i]   = N(i) CA(i) C(i) N(i+1)
//   omega[i] = CA(i-1) C(i-1) N(i) CA(i): the peptide bond *before* residue i
//              (MDTraj's compute_omega lists the same angle for the pair).
struct BackboneDihedrals {
  std::vector<double> phi, psi, omega;
};

BackboneDihedrals backbone_dihedrals(const std::vector<ResidueBackbone>& backbone, std::span<const float> xyz);

}  // namespace molearn
