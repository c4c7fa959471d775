#include "molearn/physics/hydrogen_definitions.hpp"

#include <pugixml.hpp>

#include <algorithm>
#include <charconv>
#include <filesystem>

#include "molearn/core/error.hpp"
#include "molearn/physics/forcefield_reader.hpp"

namespace molearn {

namespace {

std::vector<std::string> split_commas(std::string_view text) {
  std::vector<std::string> items;
  while (!text.empty()) {
    const std::size_t comma = text.find(',');
    const std::string_view item = text.substr(0, comma);
    if (!item.empty()) items.emplace_back(item);
    if (comma == std::string_view::npos) break;
    text.remove_prefix(comma + 1);
  }
  return items;
}

HydrogenDefinition read_hydrogen(const std::string& path, const std::string& residue, const pugi::xml_node& node) {
  HydrogenDefinition h;
  h.name = node.attribute("name").value();
  h.parent = node.attribute("parent").value();
  if (h.name.empty() || h.parent.empty())
    throw FormatError(path + ": residue " + residue + ": an <H> without name or parent");
  h.variants = split_commas(node.attribute("variant").value());
  h.terminal = node.attribute("terminal").value();
  if (const pugi::xml_attribute max_ph = node.attribute("maxph")) {
    const std::string_view text = max_ph.value();
    const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), h.max_ph);
    if (error != std::errc() || end != text.data() + text.size())
      throw FormatError(path + ": residue " + residue + ", hydrogen " + h.name + ": maxph '" + std::string(text) +
                        "' is not a number");
  }
  return h;
}

}  // namespace

bool HydrogenDefinition::in_variant(std::string_view variant) const {
  return std::find(variants.begin(), variants.end(), variant) != variants.end();
}

HydrogenDefinitions::HydrogenDefinitions(const std::string& path) {
  if (!std::filesystem::is_regular_file(path)) throw InputError(path + ": hydrogen definitions not found");
  pugi::xml_document doc;
  const pugi::xml_parse_result result = doc.load_file(path.c_str());
  if (!result)
    throw FormatError(path + " (byte " + std::to_string(result.offset) + "): invalid XML: " + result.description());
  const pugi::xml_node root = doc.child("Residues");
  if (!root) throw FormatError(path + ": expected a <Residues> element (OpenMM's hydrogens.xml format)");
  for (pugi::xml_node r : root.children("Residue")) {
    const std::string name = r.attribute("name").value();
    if (name.empty()) throw FormatError(path + ": a <Residue> without a name");
    ResidueHydrogens& residue = residues_[name];
    for (pugi::xml_node v : r.children("Variant")) residue.variants.emplace_back(v.attribute("name").value());
    for (pugi::xml_node h : r.children("H")) residue.hydrogens.push_back(read_hydrogen(path, name, h));
  }
}

const HydrogenDefinitions& HydrogenDefinitions::standard() {
  static const HydrogenDefinitions table((std::filesystem::path(forcefield_data_dir()) / "hydrogens.xml").string());
  return table;
}

const ResidueHydrogens* HydrogenDefinitions::find(std::string_view residue) const {
  const auto it = residues_.find(residue);
  return it == residues_.end() ? nullptr : &it->second;
}

}  // namespace molearn
