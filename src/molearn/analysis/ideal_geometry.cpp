#include "molearn/analysis/ideal_geometry.hpp"

#include <OpenMM.h>

#include <algorithm>
#include <set>

#include "molearn/core/error.hpp"
#include "molearn/data/selection.hpp"
#include "molearn/io/residue_names.hpp"
#include "molearn/physics/pdb_names.hpp"
#include "molearn/physics/system_builder.hpp"
#include "molearn/physics/template_matching.hpp"

namespace molearn {

namespace {

// The protein residues of a structure: their atoms and their chain ends.
struct ProteinPart {
  std::vector<std::size_t> atoms;  // indices into the conformers' topology
  std::vector<ResidueTermini> termini;
  std::set<std::string> names;  // standard (pdbNames.xml) names of the atoms present
  bool hydrogens = false;
};

ProteinPart protein_part(const Conformers& c) {
  const PdbNames& pdb = PdbNames::standard();
  const std::vector<Residue> residues = c.topology.residues();
  ProteinPart part;
  for (std::size_t r = 0; r < residues.size(); ++r) {
    const std::string& res_name = c.topology.atom(residues[r].first_atom).res_name;
    if (!is_protein_residue(pdb.residue(res_name))) continue;
    ResidueTermini ends = r < c.termini.size() ? c.termini[r] : ResidueTermini{};
    bool has_oxt = false;
    for (std::size_t k = 0; k < residues[r].atom_count; ++k) {
      const std::size_t i = residues[r].first_atom + k;
      part.atoms.push_back(i);
      part.names.insert(pdb.atom(res_name, c.topology.atom(i).name));
      has_oxt = has_oxt || c.topology.atom(i).name == "OXT";
      part.hydrogens = part.hydrogens || is_hydrogen(c.topology.atom(i));
    }
    // A residue alone in its chain has no template (Amber has N- or
    // C-terminal variants, not both): its own geometry is that of the
    // C-terminal variant when it has OXT, else of the interior template.
    if (ends.n_terminal && ends.c_terminal) ends = ResidueTermini{false, has_oxt};
    part.termini.push_back(ends);
  }
  return part;
}

}  // namespace

IdealGeometry ideal_geometry(const ForceField& ff, const Conformers& c) {
  IdealGeometry ideal;
  const ProteinPart part = protein_part(c);
  if (part.atoms.empty() || c.frame_count == 0) return ideal;
  const Topology subset = c.topology.subset(part.atoms);
  std::vector<float> xyz;
  xyz.reserve(3 * part.atoms.size());
  for (std::size_t i : part.atoms) xyz.insert(xyz.end(), &c.frame(0)[3 * i], &c.frame(0)[3 * i] + 3);

  TemplateOptions options;
  // Without hydrogens (decoded structures, heavy-atom selections) templates
  // are reduced to the atom names present; with them, full templates, as
  // `molearn energy` and `relax` do (terminal hydrogens have several names).
  if (!part.hydrogens) options.filter.names = part.names;
  options.termini = part.termini;
  // Given chain ends, match_templates bonds every C to the next N inside a
  // chain however stretched (decoded structures).
  const MatchedTopology matched = [&] {
    try {
      return match_templates(ff, subset, xyz, options);
    } catch (const InputError& e) {  // residues that fit no template: say which file they are in
      if (c.source.empty()) throw;
      throw InputError(c.source + ": " + e.what());
    }
  }();

  SystemOptions system_options;
  system_options.nonbonded = NonbondedModel::None;
  const std::unique_ptr<OpenMM::System> system = build_system(ff, matched, system_options);
  auto atom = [&](int particle) { return part.atoms[matched.atoms[static_cast<std::size_t>(particle)].source]; };
  for (int f = 0; f < system->getNumForces(); ++f) {
    if (const auto* bonds = dynamic_cast<const OpenMM::HarmonicBondForce*>(&system->getForce(f))) {
      for (int b = 0; b < bonds->getNumBonds(); ++b) {
        int p1, p2;
        double length_nm, k;
        bonds->getBondParameters(b, p1, p2, length_nm, k);
        ideal.bonds.push_back({atom(p1), atom(p2), 10.0 * length_nm});
      }
    } else if (const auto* angles = dynamic_cast<const OpenMM::HarmonicAngleForce*>(&system->getForce(f))) {
      for (int a = 0; a < angles->getNumAngles(); ++a) {
        int p1, p2, p3;
        double radians, k;
        angles->getAngleParameters(a, p1, p2, p3, radians, k);
        ideal.angles.push_back({atom(p1), atom(p2), atom(p3), radians * 180.0 / M_PI});
      }
    }
  }
  return ideal;
}

}  // namespace molearn
