#include "molearn/physics/pdb_names.hpp"

#include <pugixml.hpp>

#include <filesystem>

#include "molearn/core/error.hpp"
#include "molearn/physics/forcefield_reader.hpp"

namespace molearn {

namespace {

using NameMap = std::map<std::string, std::string, std::less<>>;

// Every attribute of an <Atom> (name, alt1, alt2, ...) maps to its name.
void add_atoms(const pugi::xml_node& residue, NameMap& map) {
  for (pugi::xml_node atom : residue.children("Atom")) {
    const std::string name = atom.attribute("name").value();
    for (pugi::xml_attribute a : atom.attributes()) map[a.value()] = name;
  }
}

}  // namespace

PdbNames::PdbNames(const std::string& path) {
  pugi::xml_document doc;
  const pugi::xml_parse_result result = doc.load_file(path.c_str());
  if (!result)
    throw FormatError(path + " (byte " + std::to_string(result.offset) + "): invalid XML: " + result.description());
  const pugi::xml_node root = doc.child("Residues");
  // Generic tables: "All" applies to every listed residue, "Protein" and
  // "Nucleic" to the residues of that type (as OpenMM's PDBFile reads them).
  NameMap all, protein, nucleic;
  for (pugi::xml_node r : root.children("Residue")) {
    const std::string_view name = r.attribute("name").value();
    if (name == "All")
      add_atoms(r, all);
    else if (name == "Protein")
      add_atoms(r, protein);
    else if (name == "Nucleic")
      add_atoms(r, nucleic);
  }
  for (const auto& [k, v] : all) protein[k] = nucleic[k] = v;
  for (pugi::xml_node r : root.children("Residue")) {
    const std::string name = r.attribute("name").value();
    for (pugi::xml_attribute a : r.attributes())
      if (std::string_view(a.name()) == "name" || std::string_view(a.name()).starts_with("alt"))
        residues_[a.value()] = name;
    const std::string_view type = r.attribute("type").value();
    NameMap atoms = type == "Protein" ? protein : type == "Nucleic" ? nucleic : all;
    add_atoms(r, atoms);
    atoms_[name] = std::move(atoms);
  }
}

const PdbNames& PdbNames::standard() {
  static const PdbNames table = [] {
    const auto path = std::filesystem::path(forcefield_data_dir()) / "pdbNames.xml";
    return std::filesystem::exists(path) ? PdbNames(path.string()) : PdbNames();
  }();
  return table;
}

std::string PdbNames::residue(std::string_view res_name) const {
  auto it = residues_.find(res_name);
  return it == residues_.end() ? std::string(res_name) : it->second;
}

std::string PdbNames::atom(std::string_view res_name, std::string_view atom_name) const {
  auto table = atoms_.find(residue(res_name));
  if (table == atoms_.end()) return std::string(atom_name);
  auto it = table->second.find(atom_name);
  return it == table->second.end() ? std::string(atom_name) : it->second;
}

}  // namespace molearn
