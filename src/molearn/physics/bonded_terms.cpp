#include "molearn/physics/bonded_terms.hpp"

#include <algorithm>
#include <map>
#include <optional>
#include <set>

#include "molearn/physics/bond_graph.hpp"

namespace molearn {

namespace {

// The permutations of the three outer atoms of an improper candidate
// (positions 1, 2, 3), in the order itertools.permutations yields them.
constexpr std::array<std::array<int, 3>, 6> kPermutations = {
    {{1, 2, 3}, {1, 3, 2}, {2, 1, 3}, {2, 3, 1}, {3, 1, 2}, {3, 2, 1}}};

class TermAssigner {
 public:
  TermAssigner(const ForceField& ff, const MatchedTopology& topology) : ff_(ff), topology_(topology) {}

  int type(int atom) const { return topology_.atoms[atom].type; }

  std::optional<int> bond_definition(int a, int b) const {
    for (std::size_t d = 0; d < ff_.bonds.size(); ++d) {
      const auto& f = ff_.bonds[d].atoms;
      if ((accepts(f[0], a) && accepts(f[1], b)) || (accepts(f[0], b) && accepts(f[1], a))) return static_cast<int>(d);
    }
    return std::nullopt;
  }

  std::optional<int> angle_definition(const std::array<int, 3>& angle) const {
    const auto [a, b, c] = angle;
    for (std::size_t d = 0; d < ff_.angles.size(); ++d) {
      const auto& f = ff_.angles[d].atoms;
      if (!accepts(f[1], b)) continue;
      if ((accepts(f[0], a) && accepts(f[2], c)) || (accepts(f[0], c) && accepts(f[2], a))) return static_cast<int>(d);
    }
    return std::nullopt;
  }

  // A definition without wildcards wins; otherwise the first with wildcards.
  std::optional<int> proper_definition(const std::array<int, 4>& t) {
    std::array<int, 4> key = {type(t[0]), type(t[1]), type(t[2]), type(t[3])};
    const std::array<int, 4> reversed = {key[3], key[2], key[1], key[0]};
    key = std::min(key, reversed);  // both directions match the same definitions
    if (auto it = proper_cache_.find(key); it != proper_cache_.end()) return it->second;
    std::optional<int> match;
    for (std::size_t d = 0; d < ff_.propers.size(); ++d) {
      const auto& f = ff_.propers[d].atoms;
      const bool forward = accepts(f[0], t[0]) && accepts(f[1], t[1]) && accepts(f[2], t[2]) && accepts(f[3], t[3]);
      const bool backward = accepts(f[0], t[3]) && accepts(f[1], t[2]) && accepts(f[2], t[1]) && accepts(f[3], t[0]);
      if (!forward && !backward) continue;
      const bool wildcard = ff_.propers[d].has_wildcard();
      if (!match || !wildcard) match = static_cast<int>(d);
      if (!wildcard) break;
    }
    proper_cache_[key] = match;
    return match;
  }

  // The definition and atom order of an improper candidate (centre, a, b, c).
  // OpenMM caches the result by the four atom types and reuses the positions
  // it chose for later candidates with the same types; so does this.
  std::optional<std::pair<std::array<int, 4>, int>> improper(const std::array<int, 4>& candidate) {
    const std::array<int, 4> key = {type(candidate[0]), type(candidate[1]), type(candidate[2]), type(candidate[3])};
    if (auto it = improper_cache_.find(key); it != improper_cache_.end()) {
      if (!it->second) return std::nullopt;
      const auto& [positions, definition] = *it->second;
      return std::pair{std::array<int, 4>{candidate[positions[0]], candidate[positions[1]], candidate[positions[2]],
                                          candidate[positions[3]]},
                       definition};
    }
    const auto match = match_improper(candidate);
    if (!match) {
      improper_cache_[key] = std::nullopt;
      return std::nullopt;
    }
    std::array<int, 4> positions{};
    for (int i = 0; i < 4; ++i)
      positions[i] =
          static_cast<int>(std::find(candidate.begin(), candidate.end(), match->first[i]) - candidate.begin());
    improper_cache_[key] = std::pair{positions, match->second};
    return match;
  }

 private:
  bool accepts(const TypeFilter& f, int atom) const { return ff_.accepts(f, type(atom)); }
  const std::string& element(int atom) const { return ff_.types[type(atom)].element; }
  double mass(int atom) const { return ff_.types[type(atom)].mass; }
  int residue(int atom) const { return topology_.atoms[atom].residue; }
  int template_index(int atom) const { return topology_.atoms[atom].template_atom; }

  // a comes after b in (residue, template atom) order.
  bool after(int a, int b) const {
    return residue(a) > residue(b) || (residue(a) == residue(b) && template_index(a) > template_index(b));
  }

  std::optional<std::pair<std::array<int, 4>, int>> match_improper(const std::array<int, 4>& t) const {
    std::optional<std::pair<std::array<int, 4>, int>> match;
    for (std::size_t d = 0; d < ff_.impropers.size(); ++d) {
      const TorsionDefinition& def = ff_.impropers[d];
      const bool wildcard = def.has_wildcard();
      if (match && wildcard) continue;  // never replace a match by a wildcard definition
      if (!accepts(def.atoms[0], t[0])) continue;
      for (const auto& [p2, p3, p4] : kPermutations) {
        if (!accepts(def.atoms[1], t[p2]) || !accepts(def.atoms[2], t[p3]) || !accepts(def.atoms[3], t[p4])) continue;
        match = std::pair{order(def, wildcard, t, p2, p3, p4), static_cast<int>(d)};
        break;
      }
    }
    return match;
  }

  // The atom order of a matched improper under the definition's ordering rule.
  std::array<int, 4> order(const TorsionDefinition& def, bool wildcard, const std::array<int, 4>& t, int p2, int p3,
                           int p4) const {
    switch (def.ordering) {
      case ImproperOrdering::Smirnoff:
        return {t[0], t[p2], t[p3], t[p4]};
      case ImproperOrdering::Charmm:
        if (!wildcard) return {t[0], t[p2], t[p3], t[p4]};
        [[fallthrough]];
      case ImproperOrdering::Default: {
        // Amber's wildcard impropers leave the order of the first two atoms
        // open; carbon first, else the heavier element, else the lower index.
        int a1 = t[p2], a2 = t[p3];
        const std::string &e1 = element(a1), &e2 = element(a2);
        if (e1 == e2 && a1 > a2)
          std::swap(a1, a2);
        else if (e1 != "C" && (e2 == "C" || mass(a1) < mass(a2)))
          std::swap(a1, a2);
        return {a1, a2, t[0], t[p4]};
      }
      case ImproperOrdering::Amber: {
        // tleap's order: equivalent outer atoms (same type, or same element
        // for wildcard definitions) sorted by residue, then template index.
        int a2 = t[p2], a3 = t[p3], a4 = t[p4];
        const bool same24 = wildcard ? element(a2) == element(a4) : type(a2) == type(a4);
        const bool same34 = wildcard ? element(a3) == element(a4) : type(a3) == type(a4);
        const bool same23 = wildcard ? true : type(a2) == type(a3);
        if (same24 && after(a2, a4)) std::swap(a2, a4);
        if (same34 && after(a3, a4)) std::swap(a3, a4);
        if (same23 && after(a2, a3)) std::swap(a2, a3);
        return {a2, a3, t[0], a4};
      }
    }
    return {t[0], t[p2], t[p3], t[p4]};
  }

  const ForceField& ff_;
  const MatchedTopology& topology_;
  std::map<std::array<int, 4>, std::optional<int>> proper_cache_;
  std::map<std::array<int, 4>, std::optional<std::pair<std::array<int, 4>, int>>> improper_cache_;
};

}  // namespace

BondedTerms assign_bonded_terms(const ForceField& ff, const MatchedTopology& topology) {
  TermAssigner assign(ff, topology);
  const BondGraph graph(topology.size(), topology.bonds);
  BondedTerms terms;

  std::set<std::pair<int, int>> seen;
  for (const auto& [a, b] : topology.bonds) {
    if (a == b || !seen.insert({std::min(a, b), std::max(a, b)}).second) continue;
    if (auto d = assign.bond_definition(a, b); d && ff.bonds[*d].k != 0)
      terms.bonds.push_back({{a, b}, ff.bonds[*d].length, ff.bonds[*d].k});
  }
  for (const auto& angle : graph.angles())
    if (auto d = assign.angle_definition(angle); d && ff.angles[*d].k != 0)
      terms.angles.push_back({angle, ff.angles[*d].angle, ff.angles[*d].k});
  for (const auto& proper : graph.propers()) {
    if (auto d = assign.proper_definition(proper))
      for (const PeriodicTerm& term : ff.propers[*d].terms)
        if (term.k != 0) terms.torsions.push_back({proper, term, false});
  }
  for (const auto& candidate : graph.improper_candidates()) {
    const auto match = assign.improper(candidate);
    if (!match) continue;
    const auto& [atoms, d] = *match;
    const TorsionDefinition& def = ff.impropers[d];
    for (const PeriodicTerm& term : def.terms) {
      if (term.k == 0) continue;
      terms.torsions.push_back({atoms, term, true});
      if (def.ordering == ImproperOrdering::Smirnoff) {  // the trefoil: all three cyclic orders
        terms.torsions.push_back({{atoms[0], atoms[2], atoms[3], atoms[1]}, term, true});
        terms.torsions.push_back({{atoms[0], atoms[3], atoms[1], atoms[2]}, term, true});
      }
    }
  }
  return terms;
}

}  // namespace molearn
