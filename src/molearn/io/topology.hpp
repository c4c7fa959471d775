// Atoms and residues of a structure, without coordinates. Pure data: no torch.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace molearn {

struct Atom {
  std::string name;      // e.g. "CA"
  std::string res_name;  // e.g. "ALA"
  int res_seq = 0;       // residue number as in the file
  char ins_code = ' ';   // PDB insertion code, ' ' if none
  std::string chain;     // chain identifier, may be empty
  std::string element;   // e.g. "C"; inferred from the name when the file has none
  bool hetero = false;   // HETATM record
  int serial = 0;        // atom serial number as in the file
};

// A residue is a run of consecutive atoms sharing chain, number, insertion
// code and name.
struct Residue {
  std::size_t first_atom = 0;
  std::size_t atom_count = 0;
};

class Topology {
 public:
  Topology() = default;
  explicit Topology(std::vector<Atom> atoms);

  const std::vector<Atom>& atoms() const { return atoms_; }
  std::vector<Atom>& atoms() { return atoms_; }
  std::size_t atom_count() const { return atoms_.size(); }
  const Atom& atom(std::size_t i) const { return atoms_[i]; }

  // Residues in file order. Recomputed from the atoms on each call.
  std::vector<Residue> residues() const;
  std::size_t residue_count() const { return residues().size(); }

  // A new topology holding only the atoms at `indices` (in that order).
  Topology subset(const std::vector<std::size_t>& indices) const;

 private:
  std::vector<Atom> atoms_;
};

// True when atoms a and b belong to the same residue.
bool same_residue(const Atom& a, const Atom& b);

// "residue LYS 65 (chain A)": how error messages name the residue of an atom.
std::string describe_residue(const Atom& atom);

// Element symbol guessed from a PDB atom name when the element column is
// blank (e.g. " CA " -> C, "CA  " -> CA calcium, "1HB " -> H, "OXT" -> O).
std::string element_from_atom_name(const std::string& raw_name, const std::string& res_name);

}  // namespace molearn
