#include "molearn/data/selection.hpp"

#include <cctype>
#include <charconv>
#include <map>
#include <set>
#include <sstream>

#include "molearn/core/error.hpp"
#include "molearn/io/residue_names.hpp"

namespace molearn {

namespace {

std::vector<std::string> split(const std::string& text, char separator) {
  std::vector<std::string> parts;
  std::stringstream stream(text);
  std::string part;
  while (std::getline(stream, part, separator)) {
    const auto first = part.find_first_not_of(' ');
    const auto last = part.find_last_not_of(' ');
    if (first != std::string::npos) parts.push_back(part.substr(first, last - first + 1));
  }
  return parts;
}

struct ResidueRange {
  std::string chain;  // empty: any chain
  int first = 0;
  int last = 0;
};

int parse_residue_number(const std::string& text, const std::string& spec) {
  int value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size())
    throw SelectionError("residue selection '" + spec + "': '" + text + "' is not a residue number");
  return value;
}

std::vector<ResidueRange> parse_residue_ranges(const std::string& spec) {
  std::vector<ResidueRange> ranges;
  for (const std::string& item : split(spec, ',')) {
    ResidueRange range;
    std::string numbers = item;
    if (auto colon = item.find(':'); colon != std::string::npos) {
      range.chain = item.substr(0, colon);
      numbers = item.substr(colon + 1);
    }
    // A leading '-' is a negative residue number, not a range separator.
    const auto dash = numbers.find('-', 1);
    range.first = parse_residue_number(numbers.substr(0, dash), spec);
    range.last = dash == std::string::npos ? range.first : parse_residue_number(numbers.substr(dash + 1), spec);
    if (range.last < range.first) throw SelectionError("residue selection '" + spec + "': range " + item + " is empty");
    ranges.push_back(range);
  }
  if (ranges.empty()) throw SelectionError("residue selection '" + spec + "' names no residues");
  return ranges;
}

bool in_ranges(const Atom& atom, const std::vector<ResidueRange>& ranges) {
  for (const auto& r : ranges)
    if ((r.chain.empty() || r.chain == atom.chain) && atom.res_seq >= r.first && atom.res_seq <= r.last) return true;
  return false;
}

std::string describe_names(const Topology& topology) {
  std::set<std::string> names;
  for (const Atom& a : topology.atoms()) {
    names.insert(a.name);
    if (names.size() >= 12) break;
  }
  std::string text;
  for (const auto& n : names) text += (text.empty() ? "" : ", ") + n;
  return text;
}

}  // namespace

bool is_hydrogen(const Atom& atom) {
  if (!atom.element.empty()) return atom.element == "H" || atom.element == "D";
  return !atom.name.empty() &&
         (atom.name[0] == 'H' || (std::isdigit(static_cast<unsigned char>(atom.name[0])) && atom.name.find('H') == 1));
}

std::vector<std::size_t> select_atoms(const Topology& topology, const SelectionSpec& spec) {
  const std::string keyword = spec.atoms;
  std::set<std::string> names;
  const bool by_name = keyword != "heavy" && keyword != "protein" && keyword != "all";
  if (keyword == "backbone") {
    names = {"N", "CA", "C", "O"};
  } else if (by_name) {
    for (const auto& n : split(keyword, ',')) names.insert(n);
    if (names.empty()) throw SelectionError("atom selection '" + spec.atoms + "' names no atoms");
  }
  std::vector<ResidueRange> ranges;
  if (!spec.residues.empty()) ranges = parse_residue_ranges(spec.residues);

  std::vector<std::size_t> picked;
  for (std::size_t i = 0; i < topology.atom_count(); ++i) {
    const Atom& atom = topology.atom(i);
    bool keep = false;
    if (keyword == "all")
      keep = true;
    else if (keyword == "protein")
      keep = is_protein_residue(atom.res_name);
    else if (keyword == "heavy")
      keep = is_protein_residue(atom.res_name) && !is_hydrogen(atom);
    else
      keep = is_amino_acid(atom.res_name) && names.count(atom.name) > 0;
    if (keep && spec.remove_hydrogens && is_hydrogen(atom)) keep = false;
    if (keep && !ranges.empty() && !in_ranges(atom, ranges)) keep = false;
    if (keep) picked.push_back(i);
  }
  if (picked.empty()) {
    std::string message = "selection (atoms '" + spec.atoms + "'";
    if (!spec.residues.empty()) message += ", residues '" + spec.residues + "'";
    message += ") matches no atom; atom names present include: " + describe_names(topology);
    throw SelectionError(message);
  }
  return picked;
}

void rename_terminal_oxygens(Topology& topology) {
  static const std::map<std::string, std::string, std::less<>> standard = {
      {"OT1", "O"}, {"OC1", "O"}, {"OCT1", "O"}, {"OT2", "OXT"}, {"OC2", "OXT"}, {"OCT2", "OXT"}};
  for (Atom& atom : topology.atoms())
    if (const auto it = standard.find(atom.name); it != standard.end()) atom.name = it->second;
}

void canonicalise_residue_names(Topology& topology) {
  for (Atom& atom : topology.atoms()) atom.res_name = canonical_residue_name(atom.res_name);
}

}  // namespace molearn
