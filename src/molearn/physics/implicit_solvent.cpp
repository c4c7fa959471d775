#include "molearn/physics/implicit_solvent.hpp"

#include <map>
#include <string>

#include "molearn/core/error.hpp"
#include "molearn/physics/bond_graph.hpp"

namespace molearn {

namespace {

// mbondi2 radii (Å) of atoms other than hydrogen.
double mbondi2_radius(const std::string& element) {
  static const std::map<std::string, double, std::less<>> radii = {{"C", 1.7},  {"N", 1.55}, {"O", 1.5}, {"F", 1.5},
                                                                   {"Si", 2.1}, {"P", 1.85}, {"S", 1.8}, {"Cl", 1.7}};
  auto it = radii.find(element);
  return it == radii.end() ? 1.5 : it->second;
}

double screening_factor(const std::string& element) {
  static const std::map<std::string, double, std::less<>> factors = {
      {"H", 0.85}, {"D", 0.85}, {"C", 0.72}, {"N", 0.79}, {"O", 0.85}, {"F", 0.88}, {"P", 0.86}, {"S", 0.96}};
  auto it = factors.find(element);
  return it == factors.end() ? 0.8 : it->second;
}

}  // namespace

std::vector<ObcParticle> obc2_parameters(const ForceField& ff, const MatchedTopology& topology,
                                         const std::vector<double>& charges) {
  std::vector<ObcParticle> particles(topology.size());
  if (ff.obc.present) {
    for (std::size_t i = 0; i < topology.size(); ++i) {
      const MatchedAtom& atom = topology.atoms[i];
      const auto& p = ff.obc.by_type[atom.type];
      if (!p)
        throw InputError("the force field's <GBSAOBCForce> has no parameters for atom type " +
                         ff.types[atom.type].name);
      particles[i] = {p->charge.value_or(atom.template_charge.value_or(0.0)), p->radius, p->scale};
    }
    return particles;
  }
  const BondGraph graph(topology.size(), topology.bonds);
  for (std::size_t i = 0; i < topology.size(); ++i) {
    const std::string& element = ff.types[topology.atoms[i].type].element;
    double radius = mbondi2_radius(element);
    if (element == "H" || element == "D") {
      const auto& bonded = graph.neighbours(static_cast<int>(i));
      const bool on_nitrogen = !bonded.empty() && ff.types[topology.atoms[bonded.front()].type].element == "N";
      radius = on_nitrogen ? 1.3 : 1.2;
    }
    particles[i] = {charges[i], radius / 10, screening_factor(element)};
  }
  return particles;
}

}  // namespace molearn
