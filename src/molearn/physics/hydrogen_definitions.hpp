// Which hydrogens each standard residue carries, as OpenMM's hydrogens.xml
// defines them for Modeller.addHydrogens: every hydrogen with its parent heavy
// atom, the protonation variants it belongs to, the pH above which it leaves,
// and whether it exists only at a chain end.
#pragma once

#include <limits>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace molearn {

struct HydrogenDefinition {
  std::string name;    // e.g. "HB2"
  std::string parent;  // heavy atom it is bonded to, e.g. "CB"
  // Present only at pH at or below this (e.g. ASP HD2: 4.4).
  double max_ph = std::numeric_limits<double>::infinity();
  std::vector<std::string> variants;  // empty: in every variant
  // hydrogens.xml's "terminal": "" (everywhere), or letters: N (at an N
  // terminus), C (at a C terminus), - (in interior residues).
  std::string terminal;

  bool in_variant(std::string_view variant) const;
};

struct ResidueHydrogens {
  std::vector<std::string> variants;  // e.g. HID, HIE, HIP, HIN for HIS
  std::vector<HydrogenDefinition> hydrogens;
};

class HydrogenDefinitions {
 public:
  HydrogenDefinitions() = default;
  // Reads a hydrogens.xml. Throws FormatError naming the file when it is not
  // valid, InputError when it cannot be read.
  explicit HydrogenDefinitions(const std::string& path);

  // forcefield_data_dir()/hydrogens.xml, read once.
  static const HydrogenDefinitions& standard();

  // By standard residue name (HIS, CYS, ...); nullptr when not defined.
  const ResidueHydrogens* find(std::string_view residue) const;
  std::size_t size() const { return residues_.size(); }

 private:
  std::map<std::string, ResidueHydrogens, std::less<>> residues_;
};

}  // namespace molearn
