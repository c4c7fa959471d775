#include "molearn/analysis/backbone.hpp"

#include <cmath>
#include <limits>

#include "molearn/io/residue_names.hpp"

namespace molearn {

std::vector<ResidueBackbone> backbone_of(const Conformers& conformers) {
  const Topology& topology = conformers.topology;
  const auto residues = topology.residues();
  std::vector<ResidueBackbone> out(residues.size());
  for (std::size_t r = 0; r < residues.size(); ++r) {
    ResidueBackbone& b = out[r];
    const Atom& first = topology.atom(residues[r].first_atom);
    b.res_name = first.res_name;
    b.chain = first.chain;
    b.res_seq = first.res_seq;
    b.ins_code = first.ins_code;
    b.amino_acid = is_amino_acid(first.res_name);
    for (std::size_t k = 0; k < residues[r].atom_count; ++k) {
      const std::size_t i = residues[r].first_atom + k;
      const std::string& name = topology.atom(i).name;
      long* slot = name == "N"    ? &b.n
                   : name == "CA" ? &b.ca
                   : name == "C"  ? &b.c
                   : name == "O"  ? &b.o
                   : name == "CB" ? &b.cb
                                  : nullptr;
      if (slot && *slot == kNoAtom) *slot = static_cast<long>(i);
    }
  }
  for (std::size_t r = 1; r < out.size(); ++r) {
    const bool ends_between = r - 1 < conformers.termini.size() && r < conformers.termini.size() &&
                              (conformers.termini[r - 1].c_terminal || conformers.termini[r].n_terminal);
    const bool bonded = out[r - 1].amino_acid && out[r].amino_acid && out[r - 1].chain == out[r].chain && !ends_between;
    out[r - 1].bonded_to_next = out[r].bonded_to_previous = bonded;
  }
  return out;
}

double dihedral_degrees(const float* a, const float* b, const float* c, const float* d) {
  double b1[3], b2[3], b3[3];
  for (int k = 0; k < 3; ++k) {
    b1[k] = double(b[k]) - a[k];
    b2[k] = double(c[k]) - b[k];
    b3[k] = double(d[k]) - c[k];
  }
  auto cross = [](const double* u, const double* v, double* w) {
    w[0] = u[1] * v[2] - u[2] * v[1];
    w[1] = u[2] * v[0] - u[0] * v[2];
    w[2] = u[0] * v[1] - u[1] * v[0];
  };
  double n1[3], n2[3], m[3];
  cross(b1, b2, n1);
  cross(b2, b3, n2);
  cross(n1, b2, m);
  const double b2_norm = std::sqrt(b2[0] * b2[0] + b2[1] * b2[1] + b2[2] * b2[2]);
  const double x = n1[0] * n2[0] + n1[1] * n2[1] + n1[2] * n2[2];
  const double y = (m[0] * n2[0] + m[1] * n2[1] + m[2] * n2[2]) / b2_norm;
  const double nan = std::numeric_limits<double>::quiet_NaN();
  if (!std::isfinite(x) || !std::isfinite(y) || (x == 0 && y == 0)) return nan;
  // atan2(y, x) with y from (n1 x b2/|b2|) . n2 gives the IUPAC sign convention with a minus.
  double angle = -std::atan2(y, x) * 180.0 / M_PI;
  if (angle <= -180.0) angle += 360.0;
  return angle;
}

BackboneDihedrals backbone_dihedrals(const std::vector<ResidueBackbone>& backbone, std::span<const float> xyz) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const std::size_t n = backbone.size();
  BackboneDihedrals out{std::vector<double>(n, nan), std::vector<double>(n, nan), std::vector<double>(n, nan)};
  auto at = [&](long i) { return xyz.data() + 3 * i; };
  for (std::size_t r = 0; r < n; ++r) {
    const ResidueBackbone& b = backbone[r];
    if (b.n == kNoAtom || b.ca == kNoAtom || b.c == kNoAtom) continue;
    if (b.bonded_to_previous) {
      const ResidueBackbone& p = backbone[r - 1];
      if (p.c != kNoAtom) out.phi[r] = dihedral_degrees(at(p.c), at(b.n), at(b.ca), at(b.c));
      if (p.c != kNoAtom && p.ca != kNoAtom) out.omega[r] = dihedral_degrees(at(p.ca), at(p.c), at(b.n), at(b.ca));
    }
    if (b.bonded_to_next && backbone[r + 1].n != kNoAtom)
      out.psi[r] = dihedral_degrees(at(b.n), at(b.ca), at(b.c), at(backbone[r + 1].n));
  }
  return out;
}

}  // namespace molearn
