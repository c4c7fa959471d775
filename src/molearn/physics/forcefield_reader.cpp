#include "molearn/physics/forcefield_reader.hpp"

#include <pugixml.hpp>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <unordered_map>

#include "molearn/core/error.hpp"

namespace molearn {

namespace {

namespace fs = std::filesystem;

// One parsed file, kept with its text so that errors can name a line.
struct XmlFile {
  std::string path;
  std::string text;
  pugi::xml_document doc;
};

std::string line_of(const XmlFile& file, std::ptrdiff_t offset) {
  if (offset < 0 || static_cast<std::size_t>(offset) > file.text.size()) return "";
  const auto begin = file.text.begin();
  const long line = 1 + std::count(begin, begin + offset, '\n');
  return ", line " + std::to_string(line);
}

[[noreturn]] void fail(const XmlFile& file, const pugi::xml_node& node, const std::string& message) {
  throw FormatError(file.path + line_of(file, node.offset_debug()) + ": " + message);
}

std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(path + ": cannot open force-field file");
  std::ostringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

void parse_xml(XmlFile& file) {
  file.text = read_text(file.path);
  const pugi::xml_parse_result result = file.doc.load_buffer(file.text.data(), file.text.size());
  if (!result) {
    const long line =
        1 + std::count(file.text.begin(), file.text.begin() + std::min<std::ptrdiff_t>(result.offset, file.text.size()),
                       '\n');
    throw FormatError(file.path + ", line " + std::to_string(line) + " (byte " + std::to_string(result.offset) +
                      "): invalid XML: " + result.description());
  }
  if (std::string_view(file.doc.document_element().name()) != "ForceField")
    throw FormatError(file.path + ": not an OpenMM force field (the root element is <" +
                      file.doc.document_element().name() + ">, expected <ForceField>)");
}

const char* required(const XmlFile& file, const pugi::xml_node& node, const char* attribute) {
  const pugi::xml_attribute a = node.attribute(attribute);
  if (!a) fail(file, node, std::string("<") + node.name() + "> has no '" + attribute + "' attribute");
  return a.value();
}

double to_number(const XmlFile& file, const pugi::xml_node& node, const char* attribute, const char* text) {
  std::string_view s(text);
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  if (!s.empty() && s.front() == '+') s.remove_prefix(1);
  double value = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  if (s.empty() || ec != std::errc() || end != s.data() + s.size() || !std::isfinite(value))
    fail(file, node, std::string("<") + node.name() + "> " + attribute + "=\"" + text + "\" is not a number");
  return value;
}

double number(const XmlFile& file, const pugi::xml_node& node, const char* attribute) {
  return to_number(file, node, attribute, required(file, node, attribute));
}

int integer(const XmlFile& file, const pugi::xml_node& node, const char* attribute) {
  const double value = number(file, node, attribute);
  if (value != std::floor(value) || std::abs(value) > 1e6)
    fail(file, node, std::string("<") + node.name() + "> " + attribute + " must be an integer");
  return static_cast<int>(value);
}

class Reader {
 public:
  ForceField read(const std::vector<std::string>& names);

 private:
  void read_types(const XmlFile& file);
  void read_residues(const XmlFile& file);
  void read_forces(const XmlFile& file);
  void read_bonds(const XmlFile& file, const pugi::xml_node& force);
  void read_angles(const XmlFile& file, const pugi::xml_node& force);
  void read_torsions(const XmlFile& file, const pugi::xml_node& force);
  void read_nonbonded(const XmlFile& file, const pugi::xml_node& force);
  void read_obc(const XmlFile& file, const pugi::xml_node& force);
  void read_script(const XmlFile& file, const pugi::xml_node& script);
  std::optional<std::vector<TypeFilter>> type_filters(const XmlFile& file, const pugi::xml_node& node, int count);
  std::vector<int> types_of(const TypeFilter& filter) const;

  ForceField ff_;
  std::unordered_map<std::string, int> type_index_;
  std::unordered_map<std::string, int> class_index_;
};

ForceField Reader::read(const std::vector<std::string>& names) {
  if (names.empty()) throw InputError("no force-field file given");
  // Files are read in order; <Include>d files are appended to the list unless
  // already in it, as OpenMM's ForceField.loadFile does.
  std::vector<std::unique_ptr<XmlFile>> files;
  std::vector<std::string> queue;
  // Files are told apart by their canonical path: a file that includes
  // itself, or one that includes another including it back, under another
  // spelling ("./ff.xml", "sub/../ff.xml") was read again and again, its path
  // growing until the file system refused it (found with the fuzz target).
  std::set<fs::path> seen;
  auto identity = [](const std::string& path) {
    std::error_code ec;
    fs::path canonical = fs::canonical(path, ec);
    return ec ? fs::path(path) : canonical;
  };
  for (const auto& name : names) {
    queue.push_back(find_forcefield_file(name));
    seen.insert(identity(queue.back()));
  }
  for (std::size_t i = 0; i < queue.size(); ++i) {
    auto file = std::make_unique<XmlFile>();
    file->path = queue[i];
    parse_xml(*file);
    for (pugi::xml_node include : file->doc.document_element().children("Include")) {
      const std::string included = required(*file, include, "file");
      const fs::path beside = fs::path(file->path).parent_path() / included;
      std::error_code ec;  // e.g. a name too long for the file system: not found
      std::string path;
      try {
        path = fs::is_regular_file(beside, ec) ? beside.string() : find_forcefield_file(included);
      } catch (const InputError&) {
        fail(*file, include, "included file '" + included + "' not found");
      }
      if (seen.insert(identity(path)).second) queue.push_back(path);
    }
    files.push_back(std::move(file));
  }
  for (const auto& file : files) ff_.files.push_back(file->path);
  for (const auto& file : files) read_types(*file);
  for (const auto& file : files) read_residues(*file);
  for (const auto& file : files) read_forces(*file);

  std::string all;
  for (const auto& f : ff_.files) all += (all.empty() ? "" : ", ") + f;
  if (ff_.types.empty()) throw FormatError(all + ": no <AtomTypes> section (not a complete force field)");
  if (ff_.templates.empty()) throw FormatError(all + ": no <Residues> section (no residue templates)");
  ff_.nonbonded.by_type.resize(ff_.types.size());
  ff_.obc.by_type.resize(ff_.types.size());
  return std::move(ff_);
}

void Reader::read_types(const XmlFile& file) {
  for (pugi::xml_node section : file.doc.document_element().children("AtomTypes")) {
    for (pugi::xml_node node : section.children("Type")) {
      AtomType type;
      type.name = required(file, node, "name");
      const std::string atom_class = required(file, node, "class");
      type.mass = number(file, node, "mass");
      type.element = node.attribute("element").value();
      if (type_index_.count(type.name)) fail(file, node, "atom type '" + type.name + "' is defined twice");
      // "" denotes the wildcard in parameter definitions, never a class.
      if (!atom_class.empty()) {
        auto [it, added] = class_index_.emplace(atom_class, static_cast<int>(ff_.classes.size()));
        if (added) ff_.classes.push_back(atom_class);
        type.atom_class = it->second;
      }
      type_index_[type.name] = static_cast<int>(ff_.types.size());
      ff_.types.push_back(std::move(type));
    }
  }
}

void Reader::read_residues(const XmlFile& file) {
  for (pugi::xml_node section : file.doc.document_element().children("Residues")) {
    for (pugi::xml_node node : section.children("Residue")) {
      ResidueTemplate t;
      t.name = required(file, node, "name");
      t.source = file.path;
      if (node.attribute("override")) t.override_level = integer(file, node, "override");
      for (pugi::xml_node a : node.children("Atom")) {
        TemplateAtom atom;
        atom.name = required(file, a, "name");
        const std::string type = required(file, a, "type");
        auto it = type_index_.find(type);
        if (it == type_index_.end())
          fail(file, a, "residue " + t.name + ", atom " + atom.name + ": unknown atom type '" + type + "'");
        atom.type = it->second;
        if (a.attribute("charge")) atom.charge = number(file, a, "charge");
        if (t.find_atom(atom.name) >= 0) fail(file, a, "residue " + t.name + " contains two atoms named " + atom.name);
        t.atoms.push_back(std::move(atom));
      }
      t.has_virtual_sites = static_cast<bool>(node.child("VirtualSite"));
      auto atom_index = [&](const pugi::xml_node& n, const char* name_attribute, const char* index_attribute) {
        if (n.attribute(name_attribute)) {
          const std::string name = n.attribute(name_attribute).value();
          const int i = t.find_atom(name);
          if (i < 0) fail(file, n, "residue " + t.name + " has no atom named " + name);
          return i;
        }
        const int i = integer(file, n, index_attribute);
        if (i < 0 || i >= static_cast<int>(t.atoms.size()))
          fail(file, n, "residue " + t.name + ": atom index " + std::to_string(i) + " out of range");
        return i;
      };
      for (pugi::xml_node b : node.children("Bond"))
        t.bonds.push_back({atom_index(b, "atomName1", "from"), atom_index(b, "atomName2", "to")});
      for (pugi::xml_node b : node.children("ExternalBond"))
        t.external_bonds.push_back(atom_index(b, "atomName", "from"));

      // A template of the same name replaces an earlier one only with a
      // higher override level, as in OpenMM.
      auto it = ff_.templates.find(t.name);
      if (it != ff_.templates.end()) {
        if (t.override_level < it->second.override_level) continue;
        if (t.override_level == it->second.override_level)
          fail(file, node,
               "residue template " + t.name + " is already defined in " + it->second.source +
                   " with the same override level");
      }
      ff_.templates[t.name] = std::move(t);
    }
  }
}

// The types each atom position of a definition accepts; std::nullopt when the
// definition names a type or class this force field does not have, which
// OpenMM silently skips (files may hold parameters for types of other files).
std::optional<std::vector<TypeFilter>> Reader::type_filters(const XmlFile& file, const pugi::xml_node& node,
                                                            int count) {
  std::vector<TypeFilter> filters;
  bool known = true;
  for (int i = 1; i <= count; ++i) {
    const std::string suffix = count == 1 ? "" : std::to_string(i);
    const pugi::xml_attribute by_class = node.attribute(("class" + suffix).c_str());
    const pugi::xml_attribute by_type = node.attribute(("type" + suffix).c_str());
    if (by_class && by_type)
      fail(file, node, "<" + std::string(node.name()) + "> gives both class" + suffix + " and type" + suffix);
    TypeFilter f;
    if (!by_class && !by_type) {
      known = false;
    } else if (std::string_view value = by_class ? by_class.value() : by_type.value(); value.empty()) {
      f.kind = TypeFilter::Kind::Any;
    } else if (by_class) {
      auto it = class_index_.find(std::string(value));
      if (it == class_index_.end())
        known = false;
      else
        f = {TypeFilter::Kind::Class, it->second};
    } else {
      auto it = type_index_.find(std::string(value));
      if (it == type_index_.end())
        known = false;
      else
        f = {TypeFilter::Kind::Type, it->second};
    }
    filters.push_back(f);
  }
  if (!known) return std::nullopt;
  return filters;
}

std::vector<int> Reader::types_of(const TypeFilter& filter) const {
  std::vector<int> result;
  for (int t = 0; t < static_cast<int>(ff_.types.size()); ++t)
    if (ff_.accepts(filter, t)) result.push_back(t);
  return result;
}

void Reader::read_forces(const XmlFile& file) {
  for (pugi::xml_node node : file.doc.document_element().children()) {
    if (node.type() != pugi::node_element) continue;
    const std::string_view tag = node.name();
    if (tag == "AtomTypes" || tag == "Residues" || tag == "Include" || tag == "Info" || tag == "Patches") continue;
    if (tag == "HarmonicBondForce")
      read_bonds(file, node);
    else if (tag == "HarmonicAngleForce")
      read_angles(file, node);
    else if (tag == "PeriodicTorsionForce")
      read_torsions(file, node);
    else if (tag == "NonbondedForce")
      read_nonbonded(file, node);
    else if (tag == "GBSAOBCForce")
      read_obc(file, node);
    else if (tag == "Script")
      read_script(file, node);
    else
      fail(file, node, "<" + std::string(tag) + "> is not supported by molearn's force-field reader");
  }
}

void Reader::read_bonds(const XmlFile& file, const pugi::xml_node& force) {
  for (pugi::xml_node node : force.children("Bond")) {
    const auto filters = type_filters(file, node, 2);
    if (!filters) continue;
    ff_.bonds.push_back({{(*filters)[0], (*filters)[1]}, number(file, node, "length"), number(file, node, "k")});
  }
}

void Reader::read_angles(const XmlFile& file, const pugi::xml_node& force) {
  for (pugi::xml_node node : force.children("Angle")) {
    const auto filters = type_filters(file, node, 3);
    if (!filters) continue;
    ff_.angles.push_back(
        {{(*filters)[0], (*filters)[1], (*filters)[2]}, number(file, node, "angle"), number(file, node, "k")});
  }
}

void Reader::read_torsions(const XmlFile& file, const pugi::xml_node& force) {
  ImproperOrdering ordering = ImproperOrdering::Default;
  if (pugi::xml_attribute a = force.attribute("ordering")) {
    const std::string_view value = a.value();
    if (value == "default")
      ordering = ImproperOrdering::Default;
    else if (value == "charmm")
      ordering = ImproperOrdering::Charmm;
    else if (value == "amber")
      ordering = ImproperOrdering::Amber;
    else if (value == "smirnoff")
      ordering = ImproperOrdering::Smirnoff;
    else
      fail(file, force, "unknown improper ordering '" + std::string(value) + "'");
  }
  for (pugi::xml_node node : force.children()) {
    const std::string_view tag = node.name();
    if (tag != "Proper" && tag != "Improper") continue;
    const auto filters = type_filters(file, node, 4);
    if (!filters) continue;
    TorsionDefinition t;
    std::copy(filters->begin(), filters->end(), t.atoms.begin());
    // Terms 1, 2, ... up to the first missing phaseN, as OpenMM reads them.
    for (int i = 1; node.attribute(("phase" + std::to_string(i)).c_str()); ++i) {
      const std::string n = std::to_string(i);
      t.terms.push_back({integer(file, node, ("periodicity" + n).c_str()), number(file, node, ("phase" + n).c_str()),
                         number(file, node, ("k" + n).c_str())});
    }
    if (tag == "Proper") {
      ff_.propers.push_back(std::move(t));
    } else {
      t.ordering = ordering;
      ff_.impropers.push_back(std::move(t));
    }
  }
}

void Reader::read_nonbonded(const XmlFile& file, const pugi::xml_node& force) {
  NonbondedDefinitions& nb = ff_.nonbonded;
  const double coulomb14 = number(file, force, "coulomb14scale");
  const double lj14 = number(file, force, "lj14scale");
  // Several <NonbondedForce> tags (from several files) merge when their 1-4
  // scales agree, as in OpenMM.
  if (nb.present && (std::abs(nb.coulomb14_scale - coulomb14) > 1e-5 || std::abs(nb.lj14_scale - lj14) > 1e-5))
    fail(file, force, "<NonbondedForce> 1-4 scales differ from those of an earlier file");
  nb.present = true;
  nb.coulomb14_scale = coulomb14;
  nb.lj14_scale = lj14;
  bool from_residue = false;
  for (pugi::xml_node use : force.children("UseAttributeFromResidue")) {
    if (std::string_view(required(file, use, "name")) != "charge")
      fail(file, use, "<UseAttributeFromResidue> supports only name=\"charge\"");
    from_residue = true;
  }
  nb.charge_from_residue = nb.charge_from_residue || from_residue;
  nb.by_type.resize(ff_.types.size());
  for (pugi::xml_node node : force.children("Atom")) {
    const auto filters = type_filters(file, node, 1);
    if (!filters) continue;
    NonbondedTypeParameters p{number(file, node, "sigma"), number(file, node, "epsilon"), std::nullopt};
    if (from_residue && node.attribute("charge"))
      fail(file, node, "charge given both here and by <UseAttributeFromResidue>");
    if (!from_residue) p.charge = number(file, node, "charge");
    for (int t : types_of((*filters)[0])) nb.by_type[t] = p;
  }
}

void Reader::read_obc(const XmlFile& file, const pugi::xml_node& force) {
  ObcDefinitions& obc = ff_.obc;
  obc.present = true;
  bool from_residue = false;
  for (pugi::xml_node use : force.children("UseAttributeFromResidue")) {
    if (std::string_view(required(file, use, "name")) != "charge")
      fail(file, use, "<UseAttributeFromResidue> supports only name=\"charge\"");
    from_residue = true;
  }
  obc.charge_from_residue = obc.charge_from_residue || from_residue;
  obc.by_type.resize(ff_.types.size());
  for (pugi::xml_node node : force.children("Atom")) {
    const auto filters = type_filters(file, node, 1);
    if (!filters) continue;
    ObcTypeParameters p{number(file, node, "radius"), number(file, node, "scale"), std::nullopt};
    if (!from_residue) p.charge = number(file, node, "charge");
    for (int t : types_of((*filters)[0])) obc.by_type[t] = p;
  }
}

// <Script> holds Python run by OpenMM's Python layer. The one molearn knows is
// implicit/obc2.xml's, which builds OBC2 implicit solvent; any other would
// change the System in ways molearn cannot reproduce, so it is refused.
void Reader::read_script(const XmlFile& file, const pugi::xml_node& script) {
  const std::string code = script.child_value();
  if (code.find("GBSAOBC2Force") != std::string::npos) {
    ff_.implicit_obc2 = true;
    return;
  }
  fail(file, script,
       "<Script> (Python code for OpenMM's Python layer) is not supported; of the implicit-solvent files "
       "molearn supports implicit/obc2.xml (or use --implicit obc2)");
}

}  // namespace

std::string forcefield_data_dir() { return MOLEARN_FORCEFIELD_DIR; }

std::string find_forcefield_file(const std::string& name) {
  std::error_code ec;  // the throwing overloads throw std::filesystem_error for names too long
  if (fs::is_regular_file(name, ec)) return name;
  const fs::path in_data = fs::path(forcefield_data_dir()) / name;
  if (fs::is_regular_file(in_data, ec)) return in_data.string();
  throw InputError(name + ": force-field file not found (looked in the current folder and in " + forcefield_data_dir() +
                   ")");
}

ForceField read_forcefield(const std::vector<std::string>& files) { return Reader().read(files); }

}  // namespace molearn
