// The standard residue and atom names of OpenMM's pdbNames.xml (e.g. HN -> H,
// OT1 -> O, HIE -> HIS, ILE CD -> CD1), which OpenMM's PDB reader applies to
// every file it reads. Template matching compares names through this table,
// so that structures written by CHARMM, GROMACS or OpenMM itself match the
// Amber templates the way they do in OpenMM's Python layer.
#pragma once

#include <map>
#include <string>
#include <string_view>

namespace molearn {

class PdbNames {
 public:
  PdbNames() = default;  // no aliases: every name is its own standard name
  // Reads a pdbNames.xml. Throws FormatError when it is not valid.
  explicit PdbNames(const std::string& path);

  // The table of forcefield_data_dir()/pdbNames.xml, read once; empty when
  // that file does not exist.
  static const PdbNames& standard();

  // Standard residue name (HIE, HID, HSD, ... -> HIS; CYX -> CYS; NMA -> NME).
  std::string residue(std::string_view res_name) const;
  // Standard name of an atom of a residue (named as in the file).
  std::string atom(std::string_view res_name, std::string_view atom_name) const;

 private:
  std::map<std::string, std::string, std::less<>> residues_;
  std::map<std::string, std::map<std::string, std::string, std::less<>>, std::less<>> atoms_;  // by standard residue
};

}  // namespace molearn
