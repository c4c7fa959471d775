// Adding the hydrogens a structure lacks, by the rules of OpenMM's
// Modeller.addHydrogens: hydrogens.xml says which hydrogens each residue has
// at a given pH and at chain ends, histidines are protonated on the nitrogen
// that can donate a hydrogen bond, cysteines in disulfides lose HG. New
// hydrogens are placed 1 Å from their parent, pointing away from its other
// bonds; refine their positions with the force field afterwards
// (minimise_added_hydrogens in md_simulation.hpp), as Modeller does.
//
// Written by hand: no Debian-packaged C++ library adds hydrogens by OpenMM's
// rules, and the result must match the templates of OpenMM's force fields.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "molearn/data/polymer.hpp"
#include "molearn/io/topology.hpp"
#include "molearn/physics/hydrogen_definitions.hpp"

namespace molearn {

struct AddHydrogensOptions {
  double ph = 7.0;
  std::uint32_t seed = 1;  // of the small random offsets that keep new hydrogens apart
};

struct HydrogenatedStructure {
  Topology topology;  // every atom of the input, new hydrogens after their parents
  std::vector<float> xyz_angstrom;
  std::vector<std::size_t> added;  // indices (in `topology`) of the hydrogens added
  // What was decided or changed, one line each ("HIS 76 (chain A) -> HID
  // (ND1 donates a hydrogen bond)", renamed or removed hydrogens).
  std::vector<std::string> notes;
};

// `termini` holds one entry per residue of `topology` (find_termini). A residue
// named as a variant (HID, HIE, HIP, HSD, HSE, HSP, CYX, ASH, GLH, LYN) keeps
// it; its hydrogens that variant lacks are removed. Residues the definitions
// do not know (ligands, ions) are copied unchanged. Existing hydrogens whose
// names match no expected hydrogen are renamed to the expected ones (as
// Modeller matches them arbitrarily). Residues take the name of the variant
// chosen (HIS -> HID, CYS -> CYX), so that force-field templates match them.
// Throws InputError naming the residue when a histidine lacks ND1 or NE2.
HydrogenatedStructure add_missing_hydrogens(const Topology& topology, std::span<const float> xyz_angstrom,
                                            const std::vector<ResidueTermini>& termini,
                                            const HydrogenDefinitions& definitions,
                                            const AddHydrogensOptions& options = {});

}  // namespace molearn
