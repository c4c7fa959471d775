// Bonds, angles and torsions of a matched topology with their force-field
// parameters, chosen by the rules of OpenMM's Python ForceField (7.7):
//   bonds, angles  the first definition whose types match, either direction;
//   propers        a definition without wildcards wins over one with; among
//                  equals the first in file order;
//   impropers      definitions are tried in file order, the central atom
//                  first; a later definition without wildcards replaces an
//                  earlier match, one with wildcards never does. The file's
//                  "ordering" (default, charmm, amber, smirnoff) then decides
//                  the order of the four atoms (amber: by residue and template
//                  atom index, as tleap does). Like OpenMM, the order chosen
//                  for the first improper of a given type signature is reused
//                  for later impropers with the same signature.
// Terms whose force constant is zero are left out, as OpenMM does.
#pragma once

#include <array>
#include <vector>

#include "molearn/physics/forcefield.hpp"
#include "molearn/physics/template_matching.hpp"

namespace molearn {

struct BondTerm {
  std::array<int, 2> atoms;
  double length = 0;  // nm
  double k = 0;       // kJ/mol/nm^2
};

struct AngleTerm {
  std::array<int, 3> atoms;
  double angle = 0;  // rad
  double k = 0;      // kJ/mol/rad^2
};

struct TorsionTerm {
  std::array<int, 4> atoms;
  PeriodicTerm term;
  bool improper = false;
};

struct BondedTerms {
  std::vector<BondTerm> bonds;
  std::vector<AngleTerm> angles;
  std::vector<TorsionTerm> torsions;  // propers, then impropers
};

BondedTerms assign_bonded_terms(const ForceField& ff, const MatchedTopology& topology);

}  // namespace molearn
