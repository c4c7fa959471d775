#include "molearn/physics/add_hydrogens.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <map>
#include <optional>
#include <random>

#include "molearn/core/error.hpp"
#include "molearn/data/selection.hpp"
#include "molearn/physics/pdb_names.hpp"

namespace molearn {

namespace {

using Vec = std::array<double, 3>;

Vec operator-(const Vec& a, const Vec& b) { return {a[0] - b[0], a[1] - b[1], a[2] - b[2]}; }
Vec operator+(const Vec& a, const Vec& b) { return {a[0] + b[0], a[1] + b[1], a[2] + b[2]}; }
Vec operator*(double s, const Vec& a) { return {s * a[0], s * a[1], s * a[2]}; }
double dot(const Vec& a, const Vec& b) { return a[0] * b[0] + a[1] * b[1] + a[2] * b[2]; }
double norm(const Vec& a) { return std::sqrt(dot(a, a)); }

constexpr double kHydrogenBondLength = 1.0;  // Å, where Modeller puts new hydrogens (0.1 nm)

// Covalent radii (Å) for finding bonds from distances: two atoms are bonded
// when closer than the sum of their radii plus 0.4 Å, the usual tolerance of
// structure viewers.
double covalent_radius(const std::string& element) {
  static const std::map<std::string, double, std::less<>> radii = {{"H", 0.31}, {"D", 0.31}, {"C", 0.76}, {"N", 0.71},
                                                                   {"O", 0.66}, {"S", 1.05}, {"P", 1.07}, {"SE", 1.20}};
  const auto it = radii.find(element);
  return it == radii.end() ? 0.8 : it->second;
}

// The input structure: positions, residues, and bonds found from distances
// between atoms of the same or neighbouring residues.
class Structure {
 public:
  Structure(const Topology& topology, std::span<const float> xyz)
      : topology_(topology), xyz_(xyz), residues_(topology.residues()) {
    residue_of_.resize(topology.atom_count());
    for (std::size_t r = 0; r < residues_.size(); ++r)
      for (std::size_t k = 0; k < residues_[r].atom_count; ++k) residue_of_[residues_[r].first_atom + k] = r;
  }

  const Atom& atom(std::size_t i) const { return topology_.atom(i); }
  Vec position(std::size_t i) const { return {xyz_[3 * i], xyz_[3 * i + 1], xyz_[3 * i + 2]}; }
  const std::vector<Residue>& residues() const { return residues_; }
  std::size_t residue_of(std::size_t atom) const { return residue_of_[atom]; }

  bool bonded(std::size_t i, std::size_t j) const {
    const double limit = covalent_radius(atom(i).element) + covalent_radius(atom(j).element) + 0.4;
    return i != j && norm(position(i) - position(j)) < limit;
  }

  // Atoms bonded to atom i, looked for in its residue and the ones beside it.
  std::vector<std::size_t> neighbours(std::size_t i) const {
    const std::size_t r = residue_of_[i];
    const std::size_t first = residues_[r == 0 ? 0 : r - 1].first_atom;
    const Residue& last = residues_[std::min(r + 1, residues_.size() - 1)];
    std::vector<std::size_t> found;
    for (std::size_t j = first; j < last.first_atom + last.atom_count; ++j)
      if (bonded(i, j)) found.push_back(j);
    return found;
  }

  // The heavy atom of the same residue a hydrogen is bonded to (the nearest).
  std::optional<std::size_t> parent_of(std::size_t h) const {
    const Residue& res = residues_[residue_of_[h]];
    std::optional<std::size_t> best;
    double best_distance = 0;
    for (std::size_t j = res.first_atom; j < res.first_atom + res.atom_count; ++j) {
      if (is_hydrogen(atom(j)) || !bonded(h, j)) continue;
      const double d = norm(position(h) - position(j));
      if (!best || d < best_distance) best = j, best_distance = d;
    }
    return best;
  }

  std::optional<std::size_t> find(const Residue& res, std::string_view name) const {
    for (std::size_t j = res.first_atom; j < res.first_atom + res.atom_count; ++j)
      if (atom(j).name == name) return j;
    return std::nullopt;
  }

 private:
  const Topology& topology_;
  std::span<const float> xyz_;
  std::vector<Residue> residues_;
  std::vector<std::size_t> residue_of_;
};

// Where a hydrogen on `parent` would point: away from the parent's other
// bonds (Modeller's rule), `length` Å from it.
Vec direction_away_from_bonds(const Structure& s, std::size_t parent) {
  Vec delta{0, 0, 0};
  for (std::size_t other : s.neighbours(parent)) delta = delta + (s.position(parent) - s.position(other));
  return delta;
}

// Modeller's tolerant hydrogen-bond test: donor-acceptor within 3.5 Å and the
// D-H and H-A directions within 50 degrees of each other.
bool is_hydrogen_bond(const Vec& donor, const Vec& hydrogen, const Vec& acceptor) {
  if (norm(donor - acceptor) > 3.5) return false;
  const Vec dh = hydrogen - donor, ha = acceptor - hydrogen;
  const double cosine = dot(dh, ha) / (norm(dh) * norm(ha));
  return std::acos(std::clamp(cosine, -1.0, 1.0)) < 50.0 * M_PI / 180.0;
}

struct Choice {
  std::string variant;
  std::string reason;  // for the notes; empty when nothing was guessed
};

Choice histidine_variant(const Structure& s, const Residue& res, const std::vector<std::size_t>& acceptors) {
  const auto nd1 = s.find(res, "ND1"), ne2 = s.find(res, "NE2");
  if (!nd1 || !ne2)
    throw InputError(describe_residue(s.atom(res.first_atom)) +
                     ": a histidine needs ND1 and NE2 to be protonated; heavy atoms are missing (complete the side "
                     "chain first, e.g. with PDBFixer or MODELLER)");
  auto has_hydrogen = [&](std::size_t n) {
    for (std::size_t j : s.neighbours(n))
      if (is_hydrogen(s.atom(j))) return true;
    return false;
  };
  const bool hd1 = has_hydrogen(*nd1), he2 = has_hydrogen(*ne2);
  if (hd1 && he2) return {"HIP", ""};
  if (hd1) return {"HID", ""};
  if (he2) return {"HIE", ""};
  auto hydrogen_on = [&](std::size_t n) {
    const Vec d = direction_away_from_bonds(s, n);
    return s.position(n) + (kHydrogenBondLength / norm(d)) * d;
  };
  const Vec hd1_position = hydrogen_on(*nd1), he2_position = hydrogen_on(*ne2);
  bool nd1_donates = false, ne2_donates = false;
  const std::size_t r = s.residue_of(*nd1);
  for (std::size_t a : acceptors) {
    if (s.residue_of(a) == r) continue;
    if (is_hydrogen_bond(s.position(*nd1), hd1_position, s.position(a))) {
      nd1_donates = true;
      break;
    }
    if (is_hydrogen_bond(s.position(*ne2), he2_position, s.position(a))) ne2_donates = true;
  }
  if (ne2_donates && !nd1_donates) return {"HIE", "NE2 donates a hydrogen bond"};
  return {"HID", nd1_donates ? "ND1 donates a hydrogen bond" : "no hydrogen bond either way: HID, as OpenMM"};
}

bool in_disulfide(const Structure& s, const Residue& res) {
  const auto sg = s.find(res, "SG");
  if (!sg) return false;
  for (std::size_t j = 0; j < s.residues().back().first_atom + s.residues().back().atom_count; ++j)
    if (j != *sg && s.atom(j).element == "S" && s.residue_of(j) != s.residue_of(*sg) &&
        norm(s.position(j) - s.position(*sg)) < 3.0)
      return true;
  return false;
}

// The variant a residue's name asks for (HID, CYX, ASH, ...), or "".
std::string variant_from_name(const std::string& res_name, const std::string& standard, const ResidueHydrogens& spec) {
  static const std::map<std::string, std::string, std::less<>> charmm = {
      {"HSD", "HID"}, {"HSE", "HIE"}, {"HSP", "HIP"}};
  const auto alias = charmm.find(res_name);
  const std::string name = alias == charmm.end() ? res_name : alias->second;
  const bool known = std::find(spec.variants.begin(), spec.variants.end(), name) != spec.variants.end();
  return known && name != standard ? name : "";
}

bool terminal_allows(const HydrogenDefinition& h, const ResidueTermini& t) {
  if (h.terminal.empty()) return true;
  auto has = [&](char c) { return h.terminal.find(c) != std::string::npos; };
  return (t.n_terminal && has('N')) || (t.c_terminal && has('C')) || (!t.n_terminal && !t.c_terminal && has('-'));
}

// The hydrogens a residue should have (Modeller's selection rule).
std::vector<const HydrogenDefinition*> expected_hydrogens(const ResidueHydrogens& spec, const std::string& variant,
                                                          double ph, const ResidueTermini& termini,
                                                          const std::vector<std::string>& heavy_names) {
  std::vector<const HydrogenDefinition*> list;
  for (const HydrogenDefinition& h : spec.hydrogens) {
    const bool by_ph = ph <= h.max_ph;
    const bool wanted =
        (variant.empty() && by_ph) || (h.variants.empty() && by_ph) || (!h.variants.empty() && h.in_variant(variant));
    if (!wanted || !terminal_allows(h, termini)) continue;
    if (std::find(heavy_names.begin(), heavy_names.end(), h.parent) == heavy_names.end()) continue;
    list.push_back(&h);
  }
  return list;
}

// The variant whose hydrogens are exactly `names` (ASP at pH 3 with HD2 is
// ASH), or "" when none or the standard residue is.
std::string variant_of_hydrogens(const ResidueHydrogens& spec, const std::vector<std::string>& names,
                                 const ResidueTermini& termini, const std::vector<std::string>& heavy_names) {
  std::vector<std::string> present = names;
  std::sort(present.begin(), present.end());
  for (const std::string& v : spec.variants) {
    std::vector<std::string> wanted;
    for (const auto* h : expected_hydrogens(spec, v, -std::numeric_limits<double>::infinity(), termini, heavy_names))
      wanted.push_back(h->name);
    std::sort(wanted.begin(), wanted.end());
    if (wanted == present) return v;
  }
  return "";
}

class HydrogenAdder {
 public:
  HydrogenAdder(const Structure& s, const std::vector<ResidueTermini>& termini, const HydrogenDefinitions& defs,
                const AddHydrogensOptions& options)
      : s_(s), termini_(termini), defs_(defs), options_(options), rng_(options.seed) {
    for (std::size_t r = 0; r < s.residues().size(); ++r) {
      const Residue& res = s.residues()[r];
      for (std::size_t j = res.first_atom; j < res.first_atom + res.atom_count; ++j)
        if (s.atom(j).element == "O" || s.atom(j).element == "N") acceptors_.push_back(j);
    }
  }

  HydrogenatedStructure run() {
    for (std::size_t r = 0; r < s_.residues().size(); ++r) add_residue(r);
    for (std::size_t i = 0; i < out_atoms_.size(); ++i) out_atoms_[i].serial = static_cast<int>(i + 1);
    out_.topology = Topology(std::move(out_atoms_));
    return std::move(out_);
  }

 private:
  void emit(Atom atom, const Vec& p) {
    out_atoms_.push_back(std::move(atom));
    for (double x : p) out_.xyz_angstrom.push_back(static_cast<float>(x));
  }

  void copy_residue(const Residue& res) {
    for (std::size_t j = res.first_atom; j < res.first_atom + res.atom_count; ++j) emit(s_.atom(j), s_.position(j));
  }

  std::string label(const Residue& res) const { return describe_residue(s_.atom(res.first_atom)).substr(8); }

  Choice choose_variant(const Residue& res, const std::string& standard, const ResidueHydrogens& spec) {
    const std::string& name = s_.atom(res.first_atom).res_name;
    if (std::string v = variant_from_name(name, standard, spec); !v.empty()) return {v, ""};
    if (standard == "CYS" && in_disulfide(s_, res)) return {"CYX", ""};
    if (standard == "HIS") {
      if (options_.ph > 6.5) return histidine_variant(s_, res, acceptors_);
      return {"HIP", ""};
    }
    return {"", ""};
  }

  void add_residue(std::size_t r) {
    const Residue& res = s_.residues()[r];
    const std::string standard = PdbNames::standard().residue(s_.atom(res.first_atom).res_name);
    const ResidueHydrogens* spec = defs_.find(standard);
    if (!spec) return copy_residue(res);
    const Choice choice = choose_variant(res, standard, *spec);
    if (!choice.reason.empty()) out_.notes.push_back(label(res) + " -> " + choice.variant + " (" + choice.reason + ")");
    const bool named_variant = !variant_from_name(s_.atom(res.first_atom).res_name, standard, *spec).empty();

    std::vector<std::string> heavy_names;
    for (std::size_t j = res.first_atom; j < res.first_atom + res.atom_count; ++j)
      if (!is_hydrogen(s_.atom(j))) heavy_names.push_back(s_.atom(j).name);
    const auto expected = expected_hydrogens(*spec, choice.variant, options_.ph, termini_[r], heavy_names);

    // Existing hydrogens, matched to expected ones by name, then arbitrarily.
    std::map<std::size_t, std::vector<const HydrogenDefinition*>> missing;  // by parent atom
    std::map<std::size_t, std::string> names;                               // new names of existing hydrogens
    std::vector<bool> removed(res.atom_count, false);
    for (std::size_t j = res.first_atom; j < res.first_atom + res.atom_count; ++j) {
      if (is_hydrogen(s_.atom(j))) continue;
      std::vector<const HydrogenDefinition*> wanted;
      for (const auto* h : expected)
        if (h->parent == s_.atom(j).name) wanted.push_back(h);
      std::vector<std::size_t> unmatched;
      for (std::size_t k = res.first_atom; k < res.first_atom + res.atom_count; ++k) {
        if (!is_hydrogen(s_.atom(k)) || s_.parent_of(k) != j) continue;
        const std::string standard_name = PdbNames::standard().atom(s_.atom(k).res_name, s_.atom(k).name);
        const auto match =
            std::find_if(wanted.begin(), wanted.end(), [&](const auto* h) { return h->name == standard_name; });
        if (match != wanted.end()) {
          names[k] = standard_name;
          wanted.erase(match);
        } else {
          unmatched.push_back(k);
        }
      }
      for (std::size_t k : unmatched) {
        if (wanted.empty() || named_variant) {
          removed[k - res.first_atom] = named_variant;
          if (named_variant)
            out_.notes.push_back(label(res) + ": removed " + s_.atom(k).name + " (not in " + choice.variant + ")");
          continue;
        }
        names[k] = wanted.back()->name;
        out_.notes.push_back(label(res) + ": renamed " + s_.atom(k).name + " to " + names[k]);
        wanted.pop_back();
      }
      missing[j] = std::move(wanted);
    }

    std::vector<std::string> final_hydrogens;
    const std::size_t first_out = out_atoms_.size();
    for (std::size_t j = res.first_atom; j < res.first_atom + res.atom_count; ++j) {
      if (removed[j - res.first_atom]) continue;
      Atom atom = s_.atom(j);
      if (const auto it = names.find(j); it != names.end()) atom.name = it->second;
      if (is_hydrogen(atom)) final_hydrogens.push_back(atom.name);
      emit(atom, s_.position(j));
      if (is_hydrogen(s_.atom(j))) continue;
      for (const auto* h : missing[j]) {
        Atom added = s_.atom(j);
        added.name = h->name;
        added.element = "H";
        final_hydrogens.push_back(h->name);
        out_.added.push_back(out_atoms_.size());
        emit(added, new_hydrogen_position(j));
      }
    }
    std::string variant = choice.variant;
    if (variant.empty()) variant = variant_of_hydrogens(*spec, final_hydrogens, termini_[r], heavy_names);
    if (!variant.empty() && variant != standard)
      for (std::size_t i = first_out; i < out_atoms_.size(); ++i) out_atoms_[i].res_name = variant;
  }

  // Modeller's placement: away from the parent's bonds, with a small random
  // offset so that hydrogens on the same parent do not coincide.
  Vec new_hydrogen_position(std::size_t parent) {
    std::uniform_real_distribution<double> uniform(0.0, 1.0);
    Vec delta = direction_away_from_bonds(s_, parent);
    if (norm(delta) < 1e-6) delta = {uniform(rng_), uniform(rng_), uniform(rng_)};
    delta = (kHydrogenBondLength / norm(delta)) * delta;
    delta = delta + Vec{0.5 * uniform(rng_), 0.5 * uniform(rng_), 0.5 * uniform(rng_)};
    return s_.position(parent) + (kHydrogenBondLength / norm(delta)) * delta;
  }

  const Structure& s_;
  const std::vector<ResidueTermini>& termini_;
  const HydrogenDefinitions& defs_;
  AddHydrogensOptions options_;
  std::mt19937 rng_;
  std::vector<std::size_t> acceptors_;
  std::vector<Atom> out_atoms_;
  HydrogenatedStructure out_;
};

}  // namespace

HydrogenatedStructure add_missing_hydrogens(const Topology& topology, std::span<const float> xyz_angstrom,
                                            const std::vector<ResidueTermini>& termini,
                                            const HydrogenDefinitions& definitions,
                                            const AddHydrogensOptions& options) {
  if (xyz_angstrom.size() != 3 * topology.atom_count())
    throw InputError("add_missing_hydrogens: " + std::to_string(topology.atom_count()) + " atoms but " +
                     std::to_string(xyz_angstrom.size() / 3) + " positions");
  if (termini.size() != topology.residue_count())
    throw InputError("add_missing_hydrogens: termini for " + std::to_string(termini.size()) +
                     " residues, the structure has " + std::to_string(topology.residue_count()));
  if (topology.atom_count() == 0) return {};
  const Structure structure(topology, xyz_angstrom);
  return HydrogenAdder(structure, termini, definitions, options).run();
}

}  // namespace molearn
