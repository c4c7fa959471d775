// Per-atom parameters of OBC2 generalised-Born implicit solvent (Onufriev,
// Bashford & Case 2004; Amber igb=5).
#pragma once

#include <vector>

#include "molearn/physics/forcefield.hpp"
#include "molearn/physics/template_matching.hpp"

namespace molearn {

struct ObcParticle {
  double charge = 0;  // e
  double radius = 0;  // nm, before OpenMM subtracts its 0.009 nm offset
  double scale = 0;   // screening factor
};

// With a <GBSAOBCForce> in the force field: its per-type radius and scale
// (charges from it, or from the residues with <UseAttributeFromResidue>).
// Otherwise what OpenMM's implicit/obc2.xml computes: Amber's mbondi2 radii
// (H 1.2 A, 1.3 A when bonded to N; C 1.7; N 1.55; O 1.5; F 1.5; Si 2.1;
// P 1.85; S 1.8; Cl 1.7; others 1.5) and screening factors by element
// (H 0.85, C 0.72, N 0.79, O 0.85, F 0.88, P 0.86, S 0.96, others 0.8), with
// `charges` (those of the non-bonded force).
std::vector<ObcParticle> obc2_parameters(const ForceField& ff, const MatchedTopology& topology,
                                         const std::vector<double>& charges);

}  // namespace molearn
