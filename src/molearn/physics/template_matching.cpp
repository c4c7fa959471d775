#include "molearn/physics/template_matching.hpp"

#include <algorithm>
#include <cmath>
#include <map>
#include <optional>
#include <sstream>

#include "molearn/core/error.hpp"
#include "molearn/io/residue_names.hpp"
#include "molearn/physics/pdb_names.hpp"

namespace molearn {

namespace {

constexpr double kMaxPeptideBond = 2.0;  // Å, as find_termini
constexpr double kMaxDisulfide = 3.0;    // Å, as OpenMM's Topology.createDisulfideBonds

std::vector<std::string> split_names(const std::string& text) {
  std::vector<std::string> names;
  std::stringstream stream(text);
  std::string item;
  while (std::getline(stream, item, ',')) {
    const auto first = item.find_first_not_of(' ');
    const auto last = item.find_last_not_of(' ');
    if (first != std::string::npos) names.push_back(item.substr(first, last - first + 1));
  }
  return names;
}

std::string join(const std::vector<std::string>& items) {
  std::string text;
  for (const auto& s : items) text += (text.empty() ? "" : ", ") + s;
  return text;
}

double distance(std::span<const float> xyz, std::size_t i, std::size_t j) {
  double d2 = 0;
  for (int k = 0; k < 3; ++k) {
    const double d = static_cast<double>(xyz[3 * i + k]) - xyz[3 * j + k];
    d2 += d * d;
  }
  return std::sqrt(d2);
}

// The atoms of one residue with their standard names (pdbNames.xml).
struct ResidueAtoms {
  std::size_t first = 0;
  std::size_t count = 0;
  std::vector<std::string> standard;  // per atom
  std::string standard_residue;

  std::optional<std::size_t> find(std::string_view standard_name) const {
    for (std::size_t k = 0; k < count; ++k)
      if (standard[k] == standard_name) return first + k;
    return std::nullopt;
  }
};

// The outcome of trying one template on one residue.
struct Attempt {
  const ResidueTemplate* templ = nullptr;
  std::vector<int> template_atom;  // per residue atom
  std::vector<std::string> missing;
  std::vector<std::string> unexpected;
  bool ok() const { return missing.empty() && unexpected.empty(); }
};

Attempt try_template(const ForceField& ff, const ResidueTemplate& t, const TemplateAtomFilter& filter,
                     const Topology& topology, const ResidueAtoms& residue) {
  const PdbNames& pdb = PdbNames::standard();
  Attempt attempt;
  attempt.templ = &t;
  attempt.template_atom.assign(residue.count, -1);
  std::vector<bool> used(t.atoms.size(), false);
  // Exact names first, so that an alias never takes an atom another one names.
  for (std::size_t k = 0; k < residue.count; ++k) {
    const int i = t.find_atom(topology.atom(residue.first + k).name);
    if (i >= 0 && !used[i]) {
      attempt.template_atom[k] = i;
      used[i] = true;
    }
  }
  for (std::size_t k = 0; k < residue.count; ++k) {
    if (attempt.template_atom[k] >= 0) continue;
    int found = -1;
    for (std::size_t i = 0; i < t.atoms.size(); ++i) {
      if (used[i] || pdb.atom(residue.standard_residue, t.atoms[i].name) != residue.standard[k]) continue;
      found = found < 0 ? static_cast<int>(i) : -2;  // -2: ambiguous
    }
    if (found >= 0) {
      attempt.template_atom[k] = found;
      used[found] = true;
    }
  }
  for (std::size_t k = 0; k < residue.count; ++k) {
    const int i = attempt.template_atom[k];
    if (i < 0 || !filter.keeps(ff, t.atoms[i])) {
      attempt.unexpected.push_back(topology.atom(residue.first + k).name);
      attempt.template_atom[k] = -1;
    }
  }
  for (std::size_t i = 0; i < t.atoms.size(); ++i)
    if (!used[i] && filter.keeps(ff, t.atoms[i])) attempt.missing.push_back(t.atoms[i].name);
  return attempt;
}

// Names used by other programs for Amber residue templates.
std::string amber_alias(const std::string& name) {
  static const std::map<std::string, std::string, std::less<>> aliases = {
      {"HSD", "HID"},  {"HSE", "HIE"},  {"HSP", "HIP"}, {"HSH", "HIP"}, {"HIH", "HIP"}, {"CYS2", "CYX"},
      {"ASPP", "ASH"}, {"GLUP", "GLH"}, {"LSN", "LYN"}, {"NMA", "NME"}, {"NH2", "NHE"}};
  auto it = aliases.find(name);
  return it == aliases.end() ? name : it->second;
}

// Template names for a residue, preferred first, before terminal variants.
std::vector<std::string> base_names(const Atom& first, const ResidueAtoms& residue, bool disulfide) {
  const std::string name = amber_alias(first.res_name);
  std::vector<std::string> names;
  auto add = [&names](const std::string& n) {
    if (std::find(names.begin(), names.end(), n) == names.end()) names.push_back(n);
  };
  if (residue.standard_residue == "HIS") {
    if (name == "HID" || name == "HIE" || name == "HIP") {
      add(name);
    } else {
      // The hydrogens present tell the protonation; without any, HIE as
      // Python molearn (alternative_residue_names HIS -> HIE).
      const bool hd1 = residue.find("HD1").has_value(), he2 = residue.find("HE2").has_value();
      add(hd1 && he2 ? "HIP" : hd1 ? "HID" : "HIE");
    }
    for (const char* n : {"HIE", "HID", "HIP"}) add(n);
  } else if (residue.standard_residue == "CYS") {
    add(disulfide || name == "CYX" ? "CYX" : "CYS");
    add(disulfide || name == "CYX" ? "CYS" : "CYX");
  } else {
    add(name);
    add(residue.standard_residue);
  }
  return names;
}

// For each residue, the residue its SG forms a disulfide with (or -1): CYS
// residues with SG and without HG, paired greedily with the closest earlier
// one within 3 Å, as OpenMM's Topology.createDisulfideBonds.
std::vector<int> find_disulfides(const std::vector<ResidueAtoms>& residues, std::span<const float> xyz) {
  std::vector<int> partner(residues.size(), -1);
  std::vector<std::pair<int, std::size_t>> sulfurs;  // residue, SG atom
  for (std::size_t r = 0; r < residues.size(); ++r) {
    if (residues[r].standard_residue != "CYS" || residues[r].find("HG")) continue;
    if (auto sg = residues[r].find("SG")) sulfurs.emplace_back(static_cast<int>(r), *sg);
  }
  for (std::size_t i = 0; i < sulfurs.size(); ++i) {
    double best = kMaxDisulfide;
    int chosen = -1;
    for (std::size_t j = 0; j < i; ++j) {
      const double d = distance(xyz, sulfurs[i].second, sulfurs[j].second);
      if (d < best && partner[sulfurs[j].first] < 0) {
        best = d;
        chosen = static_cast<int>(j);
      }
    }
    if (chosen >= 0) {
      partner[sulfurs[i].first] = sulfurs[chosen].first;
      partner[sulfurs[chosen].first] = sulfurs[i].first;
    }
  }
  return partner;
}

bool is_external(const ResidueTemplate& t, int atom) {
  return std::find(t.external_bonds.begin(), t.external_bonds.end(), atom) != t.external_bonds.end();
}

}  // namespace

bool TemplateAtomFilter::keeps(const ForceField& ff, const TemplateAtom& atom) const {
  if (names && !names->count(atom.name)) return false;
  if (!hydrogens) {
    const std::string& element = ff.types[atom.type].element;
    if (element == "H" || element == "D") return false;
  }
  return true;
}

TemplateAtomFilter TemplateAtomFilter::from_selection(const std::string& atoms, bool remove_hydrogens) {
  TemplateAtomFilter filter;
  filter.hydrogens = !remove_hydrogens;
  if (atoms == "heavy") {
    filter.hydrogens = false;
  } else if (atoms == "backbone") {
    filter.names = std::set<std::string>{"N", "CA", "C", "O"};
  } else if (atoms != "protein" && atoms != "all") {
    const auto names = split_names(atoms);
    if (names.empty()) throw SelectionError("atom selection '" + atoms + "' names no atoms");
    filter.names = std::set<std::string>(names.begin(), names.end());
  }
  return filter;
}

std::vector<std::size_t> MatchedTopology::source_atoms() const {
  std::vector<std::size_t> sources;
  sources.reserve(atoms.size());
  for (const MatchedAtom& a : atoms) sources.push_back(a.source);
  return sources;
}

MatchedTopology match_templates(const ForceField& ff, const Topology& topology, std::span<const float> xyz,
                                const TemplateOptions& options) {
  if (xyz.size() != 3 * topology.atom_count())
    throw InputError("template matching: " + std::to_string(xyz.size() / 3) + " coordinates for " +
                     std::to_string(topology.atom_count()) + " atoms");
  const PdbNames& pdb = PdbNames::standard();
  const std::vector<Residue> residues = topology.residues();
  const std::vector<ResidueTermini> termini = options.termini.empty() ? find_termini(topology, xyz) : options.termini;
  if (termini.size() != residues.size())
    throw InputError("template matching: termini given for " + std::to_string(termini.size()) +
                     " residues, the topology has " + std::to_string(residues.size()));

  std::vector<ResidueAtoms> views(residues.size());
  for (std::size_t r = 0; r < residues.size(); ++r) {
    ResidueAtoms& v = views[r];
    v.first = residues[r].first_atom;
    v.count = residues[r].atom_count;
    const std::string& res_name = topology.atom(v.first).res_name;
    v.standard_residue = pdb.residue(res_name);
    for (std::size_t k = 0; k < v.count; ++k) v.standard.push_back(pdb.atom(res_name, topology.atom(v.first + k).name));
  }
  const std::vector<int> disulfide = find_disulfides(views, xyz);

  MatchedTopology result;
  result.reduced = options.filter.reduces();
  result.residue_templates.assign(residues.size(), "");
  std::map<std::string, std::size_t> skipped;
  std::vector<std::vector<int>> system_index(residues.size());  // per residue: template atom -> system atom

  for (std::size_t r = 0; r < residues.size(); ++r) {
    const ResidueAtoms& view = views[r];
    const Atom& first = topology.atom(view.first);
    // Terminal variants replace the plain template where the force field has them.
    std::vector<std::string> candidates;
    for (const std::string& base : base_names(first, view, disulfide[r] >= 0)) {
      const bool n_end = termini[r].n_terminal, c_end = termini[r].c_terminal;
      const bool has_n = ff.find_template("N" + base) != nullptr, has_c = ff.find_template("C" + base) != nullptr;
      if (n_end && c_end && (has_n || has_c))
        throw InputError(describe_residue(first) +
                         " is a chain of its own (both N- and C-terminal); force fields have no template for that");
      std::string name = base;
      if (n_end && has_n)
        name = "N" + base;
      else if (c_end && has_c)
        name = "C" + base;
      if (ff.find_template(name)) candidates.push_back(name);
    }
    if (candidates.empty()) {
      if (options.skip_residues_without_template && !is_protein_residue(first.res_name)) {
        ++skipped[first.res_name];
        continue;
      }
      throw InputError(describe_residue(first) + ": the force field (" + join(ff.files) + ") has no template named " +
                       amber_alias(first.res_name));
    }

    std::optional<Attempt> chosen, first_attempt;
    for (const std::string& name : candidates) {
      Attempt attempt = try_template(ff, *ff.find_template(name), options.filter, topology, view);
      if (attempt.ok()) {
        chosen = std::move(attempt);
        break;
      }
      if (!first_attempt) first_attempt = std::move(attempt);
    }
    if (!chosen) {
      std::string message = describe_residue(first) + " does not match template " + first_attempt->templ->name + " (" +
                            first_attempt->templ->source + ")";
      if (result.reduced) message += " reduced to the selected atoms";
      if (!first_attempt->missing.empty()) message += "; missing atoms: " + join(first_attempt->missing);
      if (!first_attempt->unexpected.empty()) message += "; unexpected atoms: " + join(first_attempt->unexpected);
      if (candidates.size() > 1)
        message += " (also tried " + join(std::vector<std::string>(candidates.begin() + 1, candidates.end())) + ")";
      throw InputError(message);
    }
    const ResidueTemplate& t = *chosen->templ;
    if (t.has_virtual_sites)
      throw InputError(describe_residue(first) + ": template " + t.name +
                       " has virtual sites, which molearn does not support");
    result.residue_templates[r] = t.name;
    system_index[r].assign(t.atoms.size(), -1);
    for (std::size_t k = 0; k < view.count; ++k) {
      const int i = chosen->template_atom[k];
      system_index[r][i] = static_cast<int>(result.atoms.size());
      result.atoms.push_back({view.first + k, t.atoms[i].type, t.atoms[i].charge, static_cast<int>(r), i});
    }
    for (const auto& [a, b] : t.bonds)
      if (system_index[r][a] >= 0 && system_index[r][b] >= 0)
        result.bonds.push_back({system_index[r][a], system_index[r][b]});
  }

  // Bonds between residues: peptide bonds (C of a residue to N of the next,
  // both external-bond atoms of their templates) unless the chain breaks
  // there, and disulfides.
  auto system_atom = [&](std::size_t r, const char* standard_name) -> int {
    if (result.residue_templates[r].empty()) return -1;
    const ResidueTemplate& t = *ff.find_template(result.residue_templates[r]);
    for (std::size_t i = 0; i < t.atoms.size(); ++i)
      if (system_index[r][i] >= 0 && pdb.atom(views[r].standard_residue, t.atoms[i].name) == standard_name &&
          is_external(t, static_cast<int>(i)))
        return system_index[r][i];
    return -1;
  };
  for (std::size_t r = 1; r < residues.size(); ++r) {
    if (termini[r].n_terminal || termini[r - 1].c_terminal) continue;
    const int c = system_atom(r - 1, "C"), n = system_atom(r, "N");
    if (c < 0 || n < 0) continue;
    // Chain ends given by the caller (a model's training topology, chain
    // identifiers) are trusted: a decoded structure's stretched peptide bond
    // is still a bond, and its energy must count. Found from this geometry,
    // they already break chains at C-N > 2 A.
    if (!options.termini.empty() || distance(xyz, result.atoms[c].source, result.atoms[n].source) <= kMaxPeptideBond)
      result.bonds.push_back({c, n});
  }
  for (std::size_t r = 0; r < residues.size(); ++r) {
    if (disulfide[r] < static_cast<int>(r)) continue;  // each pair once, from its first residue
    const int a = system_atom(r, "SG"), b = system_atom(static_cast<std::size_t>(disulfide[r]), "SG");
    if (a >= 0 && b >= 0) result.bonds.push_back({a, b});
  }

  for (const auto& [name, count] : skipped) result.skipped.push_back(name + " x " + std::to_string(count));
  // A selection without two bonded atoms (e.g. CA only) has no bonded terms
  // and no exclusions: not a force-field energy anyone wants.
  if (result.reduced && result.bonds.empty() && result.atoms.size() > 1)
    throw InputError(
        "the selected atoms include no two bonded atoms (e.g. CA only), so the force field gives them "
        "no bonds, angles or torsions; select bonded atoms such as N,CA,CB,C,O");
  return result;
}

}  // namespace molearn
