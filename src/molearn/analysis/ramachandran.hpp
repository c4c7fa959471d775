// Ramachandran validation as MolProbity's ramalyze does it: six residue
// classes, each with a Top8000 probability density on a 2-degree phi/psi
// grid, interpolated and compared with per-class favoured/allowed thresholds.
// See docs/analysis-rama-dope.md.
#pragma once

#include <array>
#include <string>
#include <vector>

#include "molearn/analysis/backbone.hpp"
#include "molearn/analysis/conformers.hpp"
#include "molearn/analysis/metric_table.hpp"

namespace molearn {

enum class RamaClass { General, Glycine, TransProline, CisProline, PreProline, IleVal };
enum class RamaCategory { Favoured, Allowed, Outlier, NotEvaluated };

// Names as MolProbity's ramalyze prints them: "General", "Gly", "trans-Pro",
// "cis-Pro", "pre-Pro", "Ile/Val"; "Favored", "Allowed", "OUTLIER", and
// "not evaluated" (which ramalyze leaves out).
std::string to_string(RamaClass cls);
std::string to_string(RamaCategory category);

class RamachandranTables {
 public:
  // Reads the six Top8000 grids (rama8000/rama8000-*.data) found through
  // find_reference_file. Throws InputError / FormatError naming the file.
  static RamachandranTables load(const std::string& data_dir_option = "");
  // Reads the six grids from one folder holding the rama8000-*.data files.
  static RamachandranTables load_folder(const std::string& folder);

  // The density at (phi, psi) in degrees, bilinear between the four
  // surrounding bin centres with wrapping, as MolProbity's evaluator (its
  // RamachandranEval().evaluate, a fraction, not ramalyze's percent); NaN
  // when an angle is not finite.
  double evaluate(RamaClass cls, double phi_deg, double psi_deg) const;
  // Favoured / Allowed / Outlier with the class's thresholds; NotEvaluated for NaN.
  RamaCategory categorise(RamaClass cls, double value) const;

  static constexpr int kBins = 180;  // per axis: 2-degree bins centred on -179, -177, ..., 179

  // The file name of a class's grid in the rama8000 folder, e.g. "rama8000-gly-sym.data".
  static std::string file_name(RamaClass cls);

 private:
  std::array<std::vector<double>, 6> grids_;  // [class][phi bin * kBins + psi bin]
};

struct ResidueRamachandran {
  RamaClass cls = RamaClass::General;
  double phi = 0, psi = 0, score = 0;  // degrees; score NaN when not evaluated
  RamaCategory category = RamaCategory::NotEvaluated;
};

// The class of residue `r` as ramalyze decides it (omega of the residue for
// cis/trans Pro; pre-Pro from the next residue's name, bonded).
RamaClass rama_class_of(const std::vector<ResidueBackbone>& backbone, const BackboneDihedrals& dihedrals,
                        std::size_t r);

// One entry per residue; NotEvaluated where phi or psi is undefined (chain
// ends, missing atoms, non-amino acids, NaN coordinates).
std::vector<ResidueRamachandran> ramachandran_residues(const std::vector<ResidueBackbone>& backbone,
                                                       const BackboneDihedrals& dihedrals,
                                                       const RamachandranTables& tables);

// Per frame: rama_favoured, rama_allowed, rama_outliers (counts) and
// rama_favoured_fraction (favoured / evaluated; NaN when none evaluated).
MetricTable ramachandran_metrics(const Conformers& c, const RamachandranTables& tables, int threads);

}  // namespace molearn
