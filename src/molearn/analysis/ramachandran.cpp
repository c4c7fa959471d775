#include "molearn/analysis/ramachandran.hpp"

#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>

#include "molearn/analysis/reference_data.hpp"
#include "molearn/core/error.hpp"
#include "molearn/core/parallel_for.hpp"

namespace molearn {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr int kClassCount = 6;
constexpr RamaClass kClasses[kClassCount] = {RamaClass::General,    RamaClass::Glycine,    RamaClass::TransProline,
                                             RamaClass::CisProline, RamaClass::PreProline, RamaClass::IleVal};

int index_of(RamaClass cls) { return static_cast<int>(cls); }

// One header line "#   x1: -180.0 180.0 180 true" must describe the grid we
// index, or the file is not a Top8000 grid.
void check_axis_line(const std::string& line, const std::string& path, int line_number) {
  std::istringstream in(line.substr(line.find(':') + 1));
  double lower = 0, upper = 0;
  int bins = 0;
  std::string wrapping;
  in >> lower >> upper >> bins >> wrapping;
  if (!in || lower != -180.0 || upper != 180.0 || bins != RamachandranTables::kBins || wrapping != "true")
    throw FormatError(path + ":" + std::to_string(line_number) +
                      ": expected an axis of 180 wrapping bins over -180 180, found '" + line + "'");
}

// Bin index of a bin centre (-179, -177, ..., 179), or -1.
int centre_bin(double angle) {
  const double bin = (angle + 179.0) / 2.0;
  if (!(bin >= 0 && bin <= RamachandranTables::kBins - 1) || bin != std::floor(bin)) return -1;
  return static_cast<int>(bin);
}

// Reads one grid: '#' header lines, then "phi psi value" at bin centres. Bins
// the file leaves out are zero (the files list only where data was seen).
std::vector<double> read_grid(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw InputError(path + ": cannot open the Ramachandran grid");
  std::vector<double> grid(RamachandranTables::kBins * RamachandranTables::kBins, 0.0);
  std::string line;
  int line_number = 0, axes = 0, values = 0;
  while (std::getline(in, line)) {
    ++line_number;
    if (line.empty()) continue;
    if (line[0] == '#') {
      if (line.find("x1:") != std::string::npos || line.find("x2:") != std::string::npos) {
        check_axis_line(line, path, line_number);
        ++axes;
      }
      continue;
    }
    std::istringstream fields(line);
    double phi = 0, psi = 0, value = 0;
    fields >> phi >> psi >> value;
    const int i = centre_bin(phi), j = centre_bin(psi);
    if (!fields || i < 0 || j < 0 || !std::isfinite(value) || value < 0)
      throw FormatError(path + ":" + std::to_string(line_number) +
                        ": expected 'phi psi value' at a bin centre (odd degrees) with a value >= 0, found '" + line +
                        "'");
    grid[i * RamachandranTables::kBins + j] = value;
    ++values;
  }
  if (axes != 2 || values == 0)
    throw FormatError(path + ": not a Top8000 Ramachandran grid (expected two axis lines and values)");
  return grid;
}

// Folds an angle into [-180, 180] as MolProbity does (180 and -180 both stay).
double bring_to_range(double angle) {
  if (std::abs(angle) > 720) angle = std::fmod(angle, 360.0);
  while (angle > 180) angle -= 360;
  while (angle < -180) angle += 360;
  return angle;
}

// The two odd-degree bin centres around an angle (MolProbity's rule: an angle
// exactly on a centre is the lower end of its interval) and their bins.
struct Bracket {
  double low, high;
  int low_bin, high_bin;
};

int wrapped_bin(double centre) {
  int bin = static_cast<int>((centre + 179.0) / 2.0);
  if (bin > RamachandranTables::kBins - 1) bin -= RamachandranTables::kBins;
  if (bin < 0) bin += RamachandranTables::kBins;
  return bin;
}

Bracket bracket(double angle) {
  double low = std::floor(angle), high = std::ceil(angle);
  if (static_cast<int>(low) % 2 == 0) low -= 1;
  if (static_cast<int>(high) % 2 == 0) high += 1;
  if (low == high) high += 2;
  return {low, high, wrapped_bin(low), wrapped_bin(high)};
}

double lerp(double x, double x1, double x2, double y1, double y2) { return y1 + (y2 - y1) * (x - x1) / (x2 - x1); }

bool is_name(const std::string& res_name, const char* name) { return res_name.compare(0, 3, name) == 0; }

}  // namespace

std::string to_string(RamaClass cls) {
  switch (cls) {
    case RamaClass::General:
      return "General";
    case RamaClass::Glycine:
      return "Gly";
    case RamaClass::TransProline:
      return "trans-Pro";
    case RamaClass::CisProline:
      return "cis-Pro";
    case RamaClass::PreProline:
      return "pre-Pro";
    case RamaClass::IleVal:
      return "Ile/Val";
  }
  return "?";
}

std::string to_string(RamaCategory category) {
  switch (category) {
    case RamaCategory::Favoured:
      return "Favored";
    case RamaCategory::Allowed:
      return "Allowed";
    case RamaCategory::Outlier:
      return "OUTLIER";
    case RamaCategory::NotEvaluated:
      return "not evaluated";
  }
  return "?";
}

std::string RamachandranTables::file_name(RamaClass cls) {
  switch (cls) {
    case RamaClass::General:
      return "rama8000-general-noGPIVpreP.data";
    case RamaClass::Glycine:
      return "rama8000-gly-sym.data";
    case RamaClass::TransProline:
      return "rama8000-transpro.data";
    case RamaClass::CisProline:
      return "rama8000-cispro.data";
    case RamaClass::PreProline:
      return "rama8000-prepro-noGP.data";
    case RamaClass::IleVal:
      return "rama8000-ileval-nopreP.data";
  }
  return "";
}

RamachandranTables RamachandranTables::load(const std::string& data_dir_option) {
  const std::string general = find_reference_file(
      "rama8000/" + file_name(RamaClass::General), data_dir_option,
      "MolProbity Top8000 Ramachandran contours, CC-BY 4.0; the build writes them into build/share/molearn with "
      "scripts/make-rama-tables.py, or give the folder holding rama8000/");
  return load_folder(std::filesystem::path(general).parent_path().string());
}

RamachandranTables RamachandranTables::load_folder(const std::string& folder) {
  RamachandranTables tables;
  for (RamaClass cls : kClasses)
    tables.grids_[index_of(cls)] = read_grid((std::filesystem::path(folder) / file_name(cls)).string());
  return tables;
}

double RamachandranTables::evaluate(RamaClass cls, double phi_deg, double psi_deg) const {
  if (!std::isfinite(phi_deg) || !std::isfinite(psi_deg)) return kNaN;
  const double phi = bring_to_range(phi_deg), psi = bring_to_range(psi_deg);
  const Bracket x = bracket(phi), y = bracket(psi);
  const std::vector<double>& g = grids_[index_of(cls)];
  auto at = [&](int i, int j) { return g[i * kBins + j]; };
  // Along phi at both psi ends, then along psi: the order MolProbity uses, so
  // that values on a threshold round the same way.
  const double low_psi = lerp(phi, x.low, x.high, at(x.low_bin, y.low_bin), at(x.high_bin, y.low_bin));
  const double high_psi = lerp(phi, x.low, x.high, at(x.low_bin, y.high_bin), at(x.high_bin, y.high_bin));
  return lerp(psi, y.low, y.high, low_psi, high_psi);
}

RamaCategory RamachandranTables::categorise(RamaClass cls, double value) const {
  if (std::isnan(value)) return RamaCategory::NotEvaluated;
  if (value >= 0.02) return RamaCategory::Favoured;
  const double allowed = cls == RamaClass::General ? 0.0005 : cls == RamaClass::CisProline ? 0.0020 : 0.0010;
  return value >= allowed ? RamaCategory::Allowed : RamaCategory::Outlier;
}

RamaClass rama_class_of(const std::vector<ResidueBackbone>& backbone, const BackboneDihedrals& dihedrals,
                        std::size_t r) {
  const std::string& name = backbone[r].res_name;
  if (is_name(name, "GLY")) return RamaClass::Glycine;
  if (is_name(name, "PRO")) {
    // ramalyze: cis when the omega before the proline lies in (-30, 30);
    // an undefined omega counts as trans.
    const double omega = dihedrals.omega[r];
    return omega > -30 && omega < 30 ? RamaClass::CisProline : RamaClass::TransProline;
  }
  if (backbone[r].bonded_to_next && r + 1 < backbone.size() && backbone[r + 1].res_name == "PRO")
    return RamaClass::PreProline;
  if (is_name(name, "ILE") || is_name(name, "VAL")) return RamaClass::IleVal;
  return RamaClass::General;
}

std::vector<ResidueRamachandran> ramachandran_residues(const std::vector<ResidueBackbone>& backbone,
                                                       const BackboneDihedrals& dihedrals,
                                                       const RamachandranTables& tables) {
  std::vector<ResidueRamachandran> out(backbone.size());
  for (std::size_t r = 0; r < backbone.size(); ++r) {
    ResidueRamachandran& res = out[r];
    res.cls = rama_class_of(backbone, dihedrals, r);
    res.phi = dihedrals.phi[r];
    res.psi = dihedrals.psi[r];
    const bool defined = backbone[r].amino_acid && std::isfinite(res.phi) && std::isfinite(res.psi);
    res.score = defined ? tables.evaluate(res.cls, res.phi, res.psi) : kNaN;
    res.category = tables.categorise(res.cls, res.score);
  }
  return out;
}

namespace {

// A frame whose backbone has a non-finite coordinate gets NaN counts rather
// than silently fewer residues.
bool backbone_finite(const std::vector<ResidueBackbone>& backbone, std::span<const float> xyz) {
  for (const ResidueBackbone& b : backbone) {
    if (!b.amino_acid) continue;
    for (long atom : {b.n, b.ca, b.c}) {
      if (atom == kNoAtom) continue;
      for (int k = 0; k < 3; ++k)
        if (!std::isfinite(xyz[3 * atom + k])) return false;
    }
  }
  return true;
}

}  // namespace

MetricTable ramachandran_metrics(const Conformers& c, const RamachandranTables& tables, int threads) {
  MetricTable table;
  table.columns = {"rama_favoured", "rama_allowed", "rama_outliers", "rama_favoured_fraction"};
  table.rows.assign(c.frame_count, std::vector<double>(table.columns.size(), kNaN));
  const std::vector<ResidueBackbone> backbone = backbone_of(c);
  parallel_for(c.frame_count, threads, [&](std::size_t begin, std::size_t end) {
    for (std::size_t f = begin; f < end; ++f) {
      const auto xyz = c.frame(f);
      if (!backbone_finite(backbone, xyz)) continue;
      double favoured = 0, allowed = 0, outliers = 0;
      for (const ResidueRamachandran& r : ramachandran_residues(backbone, backbone_dihedrals(backbone, xyz), tables)) {
        favoured += r.category == RamaCategory::Favoured;
        allowed += r.category == RamaCategory::Allowed;
        outliers += r.category == RamaCategory::Outlier;
      }
      const double evaluated = favoured + allowed + outliers;
      table.rows[f] = {favoured, allowed, outliers, evaluated > 0 ? favoured / evaluated : kNaN};
    }
  });
  return table;
}

}  // namespace molearn
