// DOPE (Shen & Sali, Protein Science 2006), the statistical potential of
// residue-specific heavy-atom pairs, from IMP's dope_score.lib and
// interpolated as IMP's DopePairScore does. See docs/analysis-rama-dope.md.
#pragma once

#include <cstddef>
#include <string>
#include <unordered_map>
#include <vector>

#include "molearn/analysis/conformers.hpp"
#include "molearn/analysis/metric_table.hpp"

namespace molearn {

struct DopeOptions {
  double cutoff = 15;      // Å; pairs at this distance or beyond do not count
  bool all_pairs = false;  // false: MODELLER's assess_dope, no pairs inside one residue
};

class DopeTable {
 public:
  // Reads dope/dope_score.lib found through find_reference_file.
  static DopeTable load(const std::string& data_dir_option = "");
  static DopeTable load_file(const std::string& path);

  // The DOPE type index of an atom ("ALA", "CB" -> ALA_CB), after IMP's
  // aliases (equivalent atoms share a type: ARG NH2 -> NH1, VAL CG2 -> CG1,
  // ...) and the protonation/force-field spellings of residues (HIE, HID,
  // HIP, HSD, HSE, HSP -> HIS; CYX, CYM, CSS -> CYS; ASH, GLH, LYN);
  // -1 when the atom has none (hydrogens, OXT, ligands, unknown residues).
  int type_of(const std::string& res_name, const std::string& atom_name) const;
  std::size_t type_count() const { return type_names_.size(); }
  const std::string& type_name(int type) const { return type_names_[type]; }

  // The pair energy of types a and b at distance r (Å) as IMP's
  // DopePairScore computes it: a natural cubic spline through the bin values
  // placed at the bin centres; 0 at or below the first bin's start (0.5 Å)
  // and at or beyond max_distance(); NaN for a NaN distance.
  double pair_energy(int a, int b, double r) const;

  double bin_width() const { return bin_width_; }
  // Pairs at or beyond this distance score 0 (bin width x bins: 15 Å).
  double max_distance() const { return bin_width_ * bins_; }

 private:
  std::vector<std::string> type_names_;  // "ALA_CB", as in the file
  std::unordered_map<std::string, int> type_index_;
  // [type a][type b][bin][value, second derivative of the natural cubic
  // spline through the row], symmetric in a and b; a value and its second
  // derivative side by side so that one pair energy reads one cache line.
  std::vector<double> spline_;
  int bins_ = 0;
  double bin_width_ = 0.5;
  double offset_ = 0;  // distance where the first bin starts
};

// DOPE types of the atoms of a topology (-1: left out) and how many heavy
// atoms were left out for want of a type.
struct DopeAtomTypes {
  std::vector<int> types;
  std::size_t untyped_heavy_atoms = 0;
};
DopeAtomTypes dope_atom_types(const Topology& topology, const DopeTable& table);

// Per frame: "dope", the sum of the pair energies; NaN when a typed atom has
// a NaN coordinate.
MetricTable dope_metrics(const Conformers& c, const DopeTable& table, const DopeOptions& options, int threads);

}  // namespace molearn
