#include "molearn/analysis/dope.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <cmath>
#include <fstream>
#include <limits>
#include <sstream>

#include "molearn/analysis/reference_data.hpp"
#include "molearn/core/error.hpp"
#include "molearn/core/parallel_for.hpp"

namespace molearn {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// Second derivatives of the natural cubic spline (zero curvature at both
// ends) through equally spaced values: the tridiagonal system
// s[i-1] + 4 s[i] + s[i+1] = 6 (y[i-1] - 2 y[i] + y[i+1]) / h^2, solved by
// forward elimination and back substitution.
std::vector<double> natural_spline_second_derivatives(const std::vector<double>& y, double h) {
  const std::size_t n = y.size();
  std::vector<double> s(n, 0.0), upper(n, 0.0), rhs(n, 0.0);
  for (std::size_t i = 1; i + 1 < n; ++i) {
    const double pivot = 4.0 - upper[i - 1];
    upper[i] = 1.0 / pivot;
    rhs[i] = (6.0 * (y[i - 1] - 2.0 * y[i] + y[i + 1]) / (h * h) - rhs[i - 1]) / pivot;
  }
  for (std::size_t i = n - 1; i-- > 1;) s[i] = rhs[i] - upper[i] * s[i + 1];
  return s;
}

// Residue spellings of force fields and programs, mapped to the names of the
// DOPE library.
std::string dope_residue_name(const std::string& res_name) {
  static const std::array<std::pair<const char*, const char*>, 12> aliases{{{"HIE", "HIS"},
                                                                            {"HID", "HIS"},
                                                                            {"HIP", "HIS"},
                                                                            {"HSD", "HIS"},
                                                                            {"HSE", "HIS"},
                                                                            {"HSP", "HIS"},
                                                                            {"CYX", "CYS"},
                                                                            {"CYM", "CYS"},
                                                                            {"CSS", "CYS"},
                                                                            {"ASH", "ASP"},
                                                                            {"GLH", "GLU"},
                                                                            {"LYN", "LYS"}}};
  for (const auto& [from, to] : aliases)
    if (res_name == from) return to;
  return res_name;
}

// DOPE gives chemically equivalent atoms one type, named after the first of
// them in the library (IMP's DOPE_TYPE_ALIAS); CHARMM's names map to PDB's.
std::string dope_atom_name(const std::string& res, const std::string& atom) {
  static const std::array<std::array<const char*, 3>, 11> aliases{{{"ARG", "NH2", "NH1"},
                                                                   {"ASP", "OD2", "OD1"},
                                                                   {"GLU", "OE2", "OE1"},
                                                                   {"LEU", "CD2", "CD1"},
                                                                   {"PHE", "CD2", "CD1"},
                                                                   {"PHE", "CE2", "CE1"},
                                                                   {"TYR", "CD2", "CD1"},
                                                                   {"TYR", "CE2", "CE1"},
                                                                   {"VAL", "CG2", "CG1"},
                                                                   {"ILE", "CD", "CD1"},
                                                                   {"*", "OT1", "O"}}};
  for (const auto& [r, from, to] : aliases)
    if ((res == r || r[0] == '*') && atom == from) return to;
  return atom;
}

bool is_hydrogen(const Atom& atom) {
  if (!atom.element.empty()) return atom.element == "H" || atom.element == "D";
  return !atom.name.empty() &&
         (atom.name[0] == 'H' || (std::isdigit(atom.name[0]) && atom.name.size() > 1 && atom.name[1] == 'H'));
}

}  // namespace

DopeTable DopeTable::load(const std::string& data_dir_option) {
  return load_file(
      find_reference_file("dope/dope_score.lib", data_dir_option,
                          "the DOPE statistical potential of Shen & Sali 2006 as IMP distributes it, LGPL-2.1; "
                          "get modules/atom/data/dope_score.lib from IMP (salilab/imp)"));
}

DopeTable DopeTable::load_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw InputError(path + ": cannot open the DOPE library");
  DopeTable table;
  std::string line;
  std::getline(in, line);
  std::size_t declared_types = 0;
  {
    std::istringstream header(line);
    header >> table.bin_width_ >> declared_types;
    if (!header || !(table.bin_width_ > 0) || declared_types == 0)
      throw FormatError(path + ":1: expected 'bin_width type_count [offset]' (e.g. '0.5 158 0.5'), found '" + line +
                        "'");
    if (!(header >> table.offset_)) table.offset_ = 0;  // IMP: the offset is optional
    // pair_energy() turns (r - offset) / bin_width into a bin index; a huge,
    // negative or non-finite offset or a width whose inverse overflows made
    // that conversion overflow an int (undefined behaviour, found by fuzzing).
    if (!std::isnormal(table.bin_width_) || !std::isfinite(table.offset_) || table.offset_ < 0)
      throw FormatError(path + ":1: bin width must be a positive number and the offset a finite one >= 0, found '" +
                        line + "'");
  }
  struct Row {
    int a, b;
    std::vector<double> values;
  };
  std::vector<Row> rows;
  auto index_of = [&](const std::string& name) {
    auto [it, added] = table.type_index_.emplace(name, static_cast<int>(table.type_names_.size()));
    if (added) table.type_names_.push_back(name);
    return it->second;
  };
  for (int line_number = 2; std::getline(in, line); ++line_number) {
    std::istringstream fields(line);
    std::string a, b;
    if (!(fields >> a >> b)) continue;
    Row row{index_of(a), index_of(b), {}};
    for (double v; fields >> v;) row.values.push_back(v);
    if (row.values.size() < 2 || (table.bins_ && static_cast<int>(row.values.size()) != table.bins_))
      throw FormatError(path + ":" + std::to_string(line_number) + ": expected two type names and " +
                        (table.bins_ ? std::to_string(table.bins_) : std::string("at least 2")) + " values");
    table.bins_ = static_cast<int>(row.values.size());
    rows.push_back(std::move(row));
  }
  const std::size_t n = table.type_names_.size();
  if (n != declared_types || rows.size() != n * (n + 1) / 2)
    throw FormatError(path + ": the header declares " + std::to_string(declared_types) + " atom types (" +
                      std::to_string(declared_types * (declared_types + 1) / 2) + " pair lines); found " +
                      std::to_string(n) + " types in " + std::to_string(rows.size()) + " lines");
  table.spline_.assign(n * n * table.bins_ * 2, 0.0);
  for (const Row& row : rows) {
    const auto second = natural_spline_second_derivatives(row.values, table.bin_width_);
    for (auto [a, b] : {std::pair{row.a, row.b}, std::pair{row.b, row.a}}) {
      const std::size_t at = (static_cast<std::size_t>(a) * n + b) * table.bins_;
      for (int k = 0; k < table.bins_; ++k) {
        table.spline_[2 * (at + k)] = row.values[k];
        table.spline_[2 * (at + k) + 1] = second[k];
      }
    }
  }
  return table;
}

int DopeTable::type_of(const std::string& res_name, const std::string& atom_name) const {
  const std::string res = dope_residue_name(res_name);
  const auto it = type_index_.find(res + "_" + dope_atom_name(res, atom_name));
  return it == type_index_.end() ? -1 : it->second;
}

double DopeTable::pair_energy(int a, int b, double r) const {
  if (std::isnan(r)) return kNaN;
  if (a < 0 || b < 0 || r >= max_distance() || r <= offset_ || r < 0.001) return 0.0;
  const double* row = &spline_[(static_cast<std::size_t>(a) * type_names_.size() + b) * bins_ * 2];
  // Bin values sit at the bin centres; between the first two centres (and
  // below the first) the first interval's cubic is used, as IMP does.
  const double feature = r - 0.5 * bin_width_ - offset_;
  const double inverse = 1.0 / bin_width_;
  const int low = std::min(std::max(static_cast<int>(feature * inverse), 0), bins_ - 2);
  const double t = (feature - low * bin_width_) * inverse, u = 1.0 - t;
  const double* y0 = row + 2 * low;  // value, second derivative, next value, next second derivative
  return u * y0[0] + t * y0[2] +
         (u * (u * u - 1.0) * y0[1] + t * (t * t - 1.0) * y0[3]) * bin_width_ * bin_width_ / 6.0;
}

DopeAtomTypes dope_atom_types(const Topology& topology, const DopeTable& table) {
  DopeAtomTypes out;
  out.types.reserve(topology.atom_count());
  for (const Atom& atom : topology.atoms()) {
    const int type = is_hydrogen(atom) ? -1 : table.type_of(atom.res_name, atom.name);
    if (type < 0 && !is_hydrogen(atom)) ++out.untyped_heavy_atoms;
    out.types.push_back(type);
  }
  return out;
}

namespace {

// The typed atoms of one frame, sorted into cubic cells at least `cell` wide
// so that every pair closer than `cell` lies in neighbouring cells.
struct CellList {
  double cell = 0;
  std::array<long, 3> dims{1, 1, 1};
  std::array<double, 3> origin{0, 0, 0};
  std::vector<std::size_t> start;  // per cell, into order; size cells + 1
  std::vector<std::size_t> order;  // atom slots sorted by cell

  long cell_of(const double* p, int k) const {
    return std::min(dims[k] - 1, static_cast<long>((p[k] - origin[k]) / cell));
  }
};

CellList build_cells(const std::vector<double>& xyz, double cutoff) {
  const std::size_t n = xyz.size() / 3;
  CellList cl;
  std::array<double, 3> high{0, 0, 0};
  for (int k = 0; k < 3; ++k) cl.origin[k] = high[k] = n ? xyz[k] : 0.0;
  for (std::size_t i = 0; i < n; ++i)
    for (int k = 0; k < 3; ++k) {
      cl.origin[k] = std::min(cl.origin[k], xyz[3 * i + k]);
      high[k] = std::max(high[k], xyz[3 * i + k]);
    }
  // Exploded decoded structures can span kilometres: widen the cells so that
  // there are never many more cells than atoms.
  cl.cell = cutoff;
  // Counted in double: a span of 1e30 Å must not overflow an integer.
  auto cells_along = [&](int k) { return std::floor((high[k] - cl.origin[k]) / cl.cell) + 1; };
  while (cells_along(0) * cells_along(1) * cells_along(2) > 8.0 * static_cast<double>(n) + 27) cl.cell *= 2;
  for (int k = 0; k < 3; ++k) cl.dims[k] = static_cast<long>(cells_along(k));
  const std::size_t cell_count = cl.dims[0] * cl.dims[1] * cl.dims[2];
  std::vector<std::size_t> cell_index(n);
  cl.start.assign(cell_count + 1, 0);
  for (std::size_t i = 0; i < n; ++i) {
    const double* p = &xyz[3 * i];
    cell_index[i] = (cl.cell_of(p, 0) * cl.dims[1] + cl.cell_of(p, 1)) * cl.dims[2] + cl.cell_of(p, 2);
    ++cl.start[cell_index[i] + 1];
  }
  for (std::size_t c = 0; c < cell_count; ++c) cl.start[c + 1] += cl.start[c];
  cl.order.resize(n);
  std::vector<std::size_t> fill(cl.start.begin(), cl.start.end() - 1);
  for (std::size_t i = 0; i < n; ++i) cl.order[fill[cell_index[i]]++] = i;
  return cl;
}

struct TypedAtoms {
  std::vector<std::size_t> atom;  // topology index
  std::vector<int> type;
  std::vector<std::size_t> residue;
};

double frame_dope(const TypedAtoms& typed, std::span<const float> frame, const DopeTable& table,
                  const DopeOptions& options) {
  const std::size_t n = typed.atom.size();
  std::vector<double> xyz(3 * n);
  for (std::size_t i = 0; i < n; ++i)
    for (int k = 0; k < 3; ++k) {
      xyz[3 * i + k] = frame[3 * typed.atom[i] + k];
      if (!std::isfinite(xyz[3 * i + k])) return kNaN;
    }
  const double cutoff = std::min(options.cutoff, table.max_distance());
  const CellList cells = build_cells(xyz, cutoff);
  // Each pair once: a cell with itself (later atoms only) and with the 13
  // neighbours that come after it in (x, y, z) order.
  static constexpr int kHalfShell[14][3] = {{0, 0, 0},   {0, 0, 1},  {0, 1, -1}, {0, 1, 0},  {0, 1, 1},
                                            {1, -1, -1}, {1, -1, 0}, {1, -1, 1}, {1, 0, -1}, {1, 0, 0},
                                            {1, 0, 1},   {1, 1, -1}, {1, 1, 0},  {1, 1, 1}};
  // Atoms copied in cell order, so that the inner loop reads memory in sequence.
  std::vector<double> sorted(3 * n);
  std::vector<int> type(n);
  std::vector<std::size_t> residue(n);
  for (std::size_t s = 0; s < n; ++s) {
    const std::size_t i = cells.order[s];
    std::copy_n(&xyz[3 * i], 3, &sorted[3 * s]);
    type[s] = typed.type[i];
    residue[s] = typed.residue[i];
  }
  const double cutoff2 = cutoff * cutoff;
  double sum = 0;
  for (long x = 0; x < cells.dims[0]; ++x)
    for (long y = 0; y < cells.dims[1]; ++y)
      for (long z = 0; z < cells.dims[2]; ++z) {
        const std::size_t c = (x * cells.dims[1] + y) * cells.dims[2] + z;
        for (const auto& d : kHalfShell) {
          const long nx = x + d[0], ny = y + d[1], nz = z + d[2];
          if (nx >= cells.dims[0] || ny < 0 || ny >= cells.dims[1] || nz < 0 || nz >= cells.dims[2]) continue;
          const std::size_t e = (nx * cells.dims[1] + ny) * cells.dims[2] + nz;
          for (std::size_t i = cells.start[c]; i < cells.start[c + 1]; ++i) {
            const double* p = &sorted[3 * i];
            for (std::size_t j = (e == c ? i + 1 : cells.start[e]); j < cells.start[e + 1]; ++j) {
              const double dx = sorted[3 * j] - p[0], dy = sorted[3 * j + 1] - p[1], dz = sorted[3 * j + 2] - p[2];
              const double r2 = dx * dx + dy * dy + dz * dz;
              if (r2 >= cutoff2 || (!options.all_pairs && residue[i] == residue[j])) continue;
              sum += table.pair_energy(type[i], type[j], std::sqrt(r2));
            }
          }
        }
      }
  return sum;
}

}  // namespace

MetricTable dope_metrics(const Conformers& c, const DopeTable& table, const DopeOptions& options, int threads) {
  if (!(options.cutoff > 0) || !std::isfinite(options.cutoff))
    throw InputError("DOPE cutoff must be a positive distance in Å, got " + std::to_string(options.cutoff));
  const DopeAtomTypes types = dope_atom_types(c.topology, table);
  TypedAtoms typed;
  const auto residues = c.topology.residues();
  for (std::size_t r = 0; r < residues.size(); ++r)
    for (std::size_t k = 0; k < residues[r].atom_count; ++k) {
      const std::size_t i = residues[r].first_atom + k;
      if (types.types[i] < 0) continue;
      typed.atom.push_back(i);
      typed.type.push_back(types.types[i]);
      typed.residue.push_back(r);
    }
  MetricTable out;
  out.columns = {"dope"};
  out.rows.assign(c.frame_count, std::vector<double>{kNaN});
  parallel_for(c.frame_count, threads, [&](std::size_t begin, std::size_t end) {
    for (std::size_t f = begin; f < end; ++f) out.rows[f][0] = frame_dope(typed, c.frame(f), table, options);
  });
  return out;
}

}  // namespace molearn
