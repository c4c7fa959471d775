#include "molearn/analysis/geometry_quality.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <unordered_set>

#include "molearn/analysis/backbone.hpp"
#include "molearn/analysis/neighbour_grid.hpp"
#include "molearn/core/parallel_for.hpp"
#include "molearn/data/selection.hpp"
#include "molearn/io/residue_names.hpp"

namespace molearn {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

double distance(const float* p, const float* q) {
  const double dx = double(p[0]) - q[0], dy = double(p[1]) - q[1], dz = double(p[2]) - q[2];
  return std::sqrt(dx * dx + dy * dy + dz * dz);
}

// Angle p-q-r at q in degrees; atan2 of |u x v| and u.v stays accurate near 0 and 180.
double angle_degrees(const float* p, const float* q, const float* r) {
  double u[3], v[3];
  for (int k = 0; k < 3; ++k) {
    u[k] = double(p[k]) - q[k];
    v[k] = double(r[k]) - q[k];
  }
  const double cx = u[1] * v[2] - u[2] * v[1], cy = u[2] * v[0] - u[0] * v[2], cz = u[0] * v[1] - u[1] * v[0];
  const double dot = u[0] * v[0] + u[1] * v[1] + u[2] * v[2];
  return std::atan2(std::sqrt(cx * cx + cy * cy + cz * cz), dot) * 180.0 / M_PI;
}

std::uint64_t pair_key(std::size_t i, std::size_t j) {
  return (std::uint64_t(std::min(i, j)) << 32) | std::uint64_t(std::max(i, j));
}

// Pairs of atoms at most `depth` bonds apart on the bond graph.
std::unordered_set<std::uint64_t> bonded_pairs(std::size_t atom_count, const IdealGeometry& ideal, int depth) {
  std::vector<std::vector<std::size_t>> neighbours(atom_count);
  for (const auto& b : ideal.bonds) {
    neighbours[b.i].push_back(b.j);
    neighbours[b.j].push_back(b.i);
  }
  std::unordered_set<std::uint64_t> out;
  std::vector<std::size_t> frontier, next;
  std::vector<int> seen(atom_count, -1);  // the start atom that last reached each atom
  for (std::size_t start = 0; start < atom_count; ++start) {
    if (neighbours[start].empty()) continue;
    frontier = {start};
    seen[start] = static_cast<int>(start);
    for (int d = 0; d < depth && !frontier.empty(); ++d) {
      next.clear();
      for (std::size_t a : frontier)
        for (std::size_t b : neighbours[a])
          if (seen[b] != static_cast<int>(start)) {
            seen[b] = static_cast<int>(start);
            next.push_back(b);
            if (b > start) out.insert(pair_key(start, b));
          }
      frontier.swap(next);
    }
  }
  return out;
}

// Everything geometry_metrics needs that does not depend on the frame.
struct Plan {
  std::vector<std::size_t> heavy;  // heavy atoms of protein residues
  std::unordered_set<std::uint64_t> excluded;
  std::vector<ResidueBackbone> backbone;
};

Plan plan_for(const Conformers& c, const IdealGeometry& ideal) {
  Plan plan;
  for (std::size_t i = 0; i < c.atom_count(); ++i) {
    const Atom& a = c.topology.atom(i);
    if (!is_hydrogen(a) && is_protein_residue(a.res_name)) plan.heavy.push_back(i);
  }
  plan.excluded = bonded_pairs(c.atom_count(), ideal, kClashExclusionBonds);
  plan.backbone = backbone_of(c);
  return plan;
}

double bond_rms(std::span<const float> x, const IdealGeometry& ideal, double& stretched, double& largest) {
  double total = 0;
  stretched = 0;
  largest = ideal.bonds.empty() ? kNaN : 0;
  for (const auto& b : ideal.bonds) {
    const double d = distance(&x[3 * b.i], &x[3 * b.j]) - b.length;
    total += d * d;
    if (std::abs(d) > kStretchedBond) ++stretched;
    largest = std::max(largest, std::abs(d));
  }
  if (!std::isfinite(total)) stretched = largest = kNaN;
  return ideal.bonds.empty() ? kNaN : std::sqrt(total / double(ideal.bonds.size()));
}

double angle_rms(std::span<const float> x, const IdealGeometry& ideal) {
  double total = 0;
  for (const auto& a : ideal.angles) {
    const double d = angle_degrees(&x[3 * a.i], &x[3 * a.j], &x[3 * a.k]) - a.degrees;
    total += d * d;
  }
  return ideal.angles.empty() ? kNaN : std::sqrt(total / double(ideal.angles.size()));
}

double clashes(std::span<const float> x, const Plan& plan, std::vector<float>& scratch) {
  scratch.clear();
  for (std::size_t i : plan.heavy) {
    for (int k = 0; k < 3; ++k)
      if (!std::isfinite(x[3 * i + k])) return kNaN;
    scratch.insert(scratch.end(), &x[3 * i], &x[3 * i] + 3);
  }
  double count = 0;
  NeighbourGrid(scratch, kClashDistance).for_each_pair([&](std::size_t a, std::size_t b, double r) {
    if (r < kClashDistance && !plan.excluded.count(pair_key(plan.heavy[a], plan.heavy[b]))) ++count;
  });
  return count;
}

// Cis peptide bonds (all, and not before a proline) and D residues.
void backbone_counts(std::span<const float> x, const Plan& plan, double& cis, double& cis_nonpro, double& d_count) {
  const BackboneDihedrals dihedrals = backbone_dihedrals(plan.backbone, x);
  cis = cis_nonpro = d_count = 0;
  auto at = [&](long i) { return &x[3 * static_cast<std::size_t>(i)]; };
  for (std::size_t r = 0; r < plan.backbone.size(); ++r) {
    const ResidueBackbone& b = plan.backbone[r];
    const bool has_omega = b.bonded_to_previous && b.n != kNoAtom && b.ca != kNoAtom && b.c != kNoAtom &&
                           plan.backbone[r - 1].c != kNoAtom && plan.backbone[r - 1].ca != kNoAtom;
    if (has_omega) {
      const double omega = dihedrals.omega[r];
      if (std::isnan(omega)) {
        cis = cis_nonpro = kNaN;
      } else if (std::abs(omega) < kCisOmega) {
        ++cis;
        if (b.res_name != "PRO") ++cis_nonpro;
      }
    }
    if (b.amino_acid && b.n != kNoAtom && b.ca != kNoAtom && b.c != kNoAtom && b.cb != kNoAtom) {
      const double improper = dihedral_degrees(at(b.n), at(b.ca), at(b.c), at(b.cb));
      if (std::isnan(improper))
        d_count = kNaN;
      else if (improper > 0)
        ++d_count;
    }
  }
}

}  // namespace

MetricTable geometry_metrics(const Conformers& c, const IdealGeometry& ideal, int threads) {
  MetricTable table{{"bond_rms_deviation", "max_bond_deviation", "angle_rms_deviation", "stretched_bonds", "clashes",
                     "cis_peptides", "cis_nonpro_peptides", "d_residues"},
                    std::vector<std::vector<double>>(c.frame_count)};
  const Plan plan = plan_for(c, ideal);
  parallel_for(c.frame_count, threads, [&](std::size_t begin, std::size_t end) {
    std::vector<float> scratch;
    for (std::size_t f = begin; f < end; ++f) {
      const std::span<const float> x = c.frame(f);
      double stretched, largest, cis, cis_nonpro, d_count;
      const double bonds = bond_rms(x, ideal, stretched, largest);
      const double angles = angle_rms(x, ideal);
      const double clash_count = clashes(x, plan, scratch);
      backbone_counts(x, plan, cis, cis_nonpro, d_count);
      table.rows[f] = {bonds, largest, angles, stretched, clash_count, cis, cis_nonpro, d_count};
    }
  });
  return table;
}

}  // namespace molearn
