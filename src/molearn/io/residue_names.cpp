#include "molearn/io/residue_names.hpp"

#include <algorithm>
#include <array>

namespace molearn {

namespace {

template <std::size_t N>
bool contains(const std::array<std::string_view, N>& names, std::string_view name) {
  return std::find(names.begin(), names.end(), name) != names.end();
}

constexpr std::array<std::string_view, 41> kAminoAcids = {"ALA", "ARG", "ASN", "ASP", "CYS", "GLN", "GLU", "GLY", "HIS",
                                                          "ILE", "LEU", "LYS", "MET", "PHE", "PRO", "SER", "THR", "TRP",
                                                          "TYR", "VAL",
                                                          // protonation states and force-field spellings
                                                          "HIE", "HID", "HIP", "HSE", "HSD", "HSP", "CYX", "CYM", "ASH",
                                                          "GLH", "LYN", "ARN", "TYM", "HYP", "MSE", "SEC", "PYL",
                                                          // CHARMM-style names used by some tools
                                                          "ASPP", "GLUP", "CYS2", "LSN"};

constexpr std::array<std::string_view, 4> kCaps = {"ACE", "NME", "NMA", "NH2"};

constexpr std::array<std::string_view, 10> kWaters = {"HOH",  "WAT",  "SOL", "TIP", "TIP3",
                                                      "TIP4", "TIP5", "T3P", "T4P", "SPC"};

}  // namespace

bool is_amino_acid(std::string_view res_name) { return contains(kAminoAcids, res_name); }

bool is_capping_group(std::string_view res_name) { return contains(kCaps, res_name); }

bool is_water(std::string_view res_name) { return contains(kWaters, res_name); }

std::string canonical_residue_name(std::string_view res_name) {
  if (res_name == "HIS" || res_name == "HSE") return "HIE";
  if (res_name == "HSD") return "HID";  // CHARMM's HSD is protonated on ND1, as Amber's HID
  if (res_name == "HSP") return "HIP";
  return std::string(res_name);
}

}  // namespace molearn
