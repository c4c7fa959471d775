// Matching the residues of a structure to the residue templates of a force
// field, which gives every atom its type and charge and the molecule its
// bonds.
//
// OpenMM's Python layer matches templates by bond graph; molearn matches by
// residue and atom names, which also works when atoms are missing on purpose
// (a molearn dataset keeps only N, CA, CB, C, O). Names are compared through
// OpenMM's pdbNames.xml (HN = H, OT2 = OXT, ...). The template of a residue:
//   - its name, with aliases: HIS -> HID/HIE/HIP from the hydrogens present
//     (HIE without hydrogens, as Python molearn), HSD -> HID, HSE -> HIE,
//     HSP -> HIP, CYS -> CYX when its SG forms a disulfide (SG-SG < 3 A),
//     CYS2 -> CYX, ASPP -> ASH, GLUP -> GLH, LSN -> LYN, NMA -> NME,
//     NH2 -> NHE;
//   - at a real chain end (found from geometry: C-N > 2 A is a break, see
//     find_termini) the terminal variant, NALA/CALA in Amber files, when the
//     force field has one. Caps (ACE, NME) keep their own templates and make
//     the capped residue an interior one.
// Reduced templates (what Python molearn's physics loss uses): a filter keeps
// only some atoms of every template (e.g. N, CA, CB, C, O); the residue must
// then hold exactly the kept atoms, and only bonds between kept atoms remain.
#pragma once

#include <array>
#include <cstddef>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <vector>

#include "molearn/data/polymer.hpp"
#include "molearn/io/topology.hpp"
#include "molearn/physics/forcefield.hpp"

namespace molearn {

// Which atoms of every template a system keeps.
struct TemplateAtomFilter {
  std::optional<std::set<std::string>> names;  // keep only atoms of these names
  bool hydrogens = true;                       // keep hydrogens

  bool keeps(const ForceField& ff, const TemplateAtom& atom) const;
  bool reduces() const { return names.has_value() || !hydrogens; }

  // From an atom selection as `molearn prepare --atoms` takes it: atom names
  // ("N,CA,CB,C,O"), backbone, heavy, protein or all; `remove_hydrogens`
  // drops hydrogens whatever the selection says.
  static TemplateAtomFilter from_selection(const std::string& atoms, bool remove_hydrogens = false);
};

struct TemplateOptions {
  TemplateAtomFilter filter;
  // Per residue of the topology (Topology::residues() order); computed from
  // the coordinates with find_termini() when empty.
  std::vector<ResidueTermini> termini;
  // Leave out residues the force field has no template name for (water or
  // ions with a protein-only force field) instead of failing.
  bool skip_residues_without_template = false;
};

// One atom of the system with what its template gives it.
struct MatchedAtom {
  std::size_t source = 0;                 // index of the atom in the input topology
  int type = -1;                          // ForceField::types index
  std::optional<double> template_charge;  // the template's <Atom charge>, if any
  int residue = 0;                        // index of the residue in the input topology
  int template_atom = 0;                  // index of the atom in the full template
};

struct MatchedTopology {
  std::vector<MatchedAtom> atoms;
  std::vector<std::array<int, 2>> bonds;  // indices into atoms
  // Template name per residue of the input topology; "" for residues left out.
  std::vector<std::string> residue_templates;
  // Residues left out (skip_residues_without_template), e.g. "HOH x 120".
  std::vector<std::string> skipped;
  bool reduced = false;  // templates were reduced by a filter

  std::size_t size() const { return atoms.size(); }
  // For each system atom, its index in the input topology.
  std::vector<std::size_t> source_atoms() const;
};

// Matches every residue of `topology` to a template. `xyz_angstrom` holds the
// coordinates of the topology's atoms (for termini, disulfides and peptide
// bonds: C-N within 2 A). Throws InputError naming the residue (name, number,
// chain) and the missing and unexpected atoms when a residue matches no
// template, and when a reduced selection keeps no two bonded atoms (e.g. CA
// only: no bonded terms at all). A selection without backbone atoms (e.g.
// CB,CG) is accepted: every residue is then a fragment of its own.
MatchedTopology match_templates(const ForceField& ff, const Topology& topology, std::span<const float> xyz_angstrom,
                                const TemplateOptions& options = {});

}  // namespace molearn
