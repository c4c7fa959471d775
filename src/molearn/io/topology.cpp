#include "molearn/io/topology.hpp"

#include <cctype>

#include "molearn/io/residue_names.hpp"

namespace molearn {

Topology::Topology(std::vector<Atom> atoms) : atoms_(std::move(atoms)) {}

bool same_residue(const Atom& a, const Atom& b) {
  return a.res_seq == b.res_seq && a.ins_code == b.ins_code && a.chain == b.chain && a.res_name == b.res_name;
}

std::vector<Residue> Topology::residues() const {
  std::vector<Residue> result;
  for (std::size_t i = 0; i < atoms_.size(); ++i) {
    if (i == 0 || !same_residue(atoms_[i], atoms_[i - 1])) result.push_back({i, 0});
    ++result.back().atom_count;
  }
  return result;
}

Topology Topology::subset(const std::vector<std::size_t>& indices) const {
  std::vector<Atom> picked;
  picked.reserve(indices.size());
  for (std::size_t i : indices) picked.push_back(atoms_.at(i));
  return Topology(std::move(picked));
}

std::string element_from_atom_name(const std::string& raw_name, const std::string& res_name) {
  // PDB convention: a one-letter element is right-aligned in the first two
  // columns of the name (" CA " is carbon alpha, "CA  " is calcium); names
  // starting with a digit are hydrogens ("1HB "). Many writers ignore the
  // alignment, so inside protein residues the first letter decides.
  std::string letters;
  for (char c : raw_name)
    if (std::isalpha(static_cast<unsigned char>(c))) letters += static_cast<char>(std::toupper(c));
  if (letters.empty()) return "";
  const bool digit_first = !raw_name.empty() && std::isdigit(static_cast<unsigned char>(raw_name[0]));
  if (is_protein_residue(res_name) || is_water(res_name) || digit_first) return letters.substr(0, 1);
  const bool right_aligned = !raw_name.empty() && raw_name[0] == ' ';
  const bool fills_columns = raw_name.size() >= 4 && raw_name[3] != ' ';
  if (right_aligned || letters.size() == 1 || fills_columns) return letters.substr(0, 1);
  // Left-aligned name outside a protein: a two-letter element such as FE, ZN, CL.
  std::string two = letters.substr(0, 2);
  two[1] = static_cast<char>(std::tolower(two[1]));
  static const char* kTwoLetter[] = {"Fe", "Zn", "Cl", "Na", "Mg", "Ca", "Mn", "Cu",
                                     "Br", "Co", "Ni", "Se", "Li", "Cd", "Hg"};
  for (const char* e : kTwoLetter)
    if (two == e) return letters.substr(0, 2);
  return letters.substr(0, 1);
}

std::string describe_residue(const Atom& a) {
  std::string text = "residue " + a.res_name + " " + std::to_string(a.res_seq);
  if (a.ins_code != ' ') text += a.ins_code;
  if (!a.chain.empty()) text += " (chain " + a.chain + ")";
  return text;
}

}  // namespace molearn
