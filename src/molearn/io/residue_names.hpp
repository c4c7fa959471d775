// What kind of residue a residue name denotes, and the aliases different
// force fields and programs use for the same amino acid.
#pragma once

#include <string>
#include <string_view>

namespace molearn {

// One of the 20 standard amino acids or a protonation/force-field variant
// of one (HIE, HID, HIP, HSD, HSE, HSP, CYX, CYM, ASH, GLH, LYN, MSE, ...).
bool is_amino_acid(std::string_view res_name);

// Terminal capping groups: ACE (acetyl), NME/NMA (N-methyl amide), NH2.
bool is_capping_group(std::string_view res_name);

// Protein residue: amino acid or capping group.
inline bool is_protein_residue(std::string_view res_name) {
  return is_amino_acid(res_name) || is_capping_group(res_name);
}

// Water under its common names (HOH, WAT, SOL, TIP3, TIP4, T3P, ...).
bool is_water(std::string_view res_name);

// The name molearn uses for a residue: histidine spellings HIS/HSE -> HIE (as
// Python molearn does for its force-field templates), CHARMM's HSD -> HID
// (protonated on ND1) and HSP -> HIP; every other name is returned unchanged.
std::string canonical_residue_name(std::string_view res_name);

}  // namespace molearn
