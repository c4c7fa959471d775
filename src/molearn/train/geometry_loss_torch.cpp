#include "molearn/train/geometry_loss_torch.hpp"

#include <cmath>
#include <map>
#include <random>

#include "molearn/analysis/ideal_geometry.hpp"
#include "molearn/core/error.hpp"

namespace molearn {

namespace {

// A dihedral error of delta moves an atom this far from the axis by about
// kDihedralLever * delta: the lever that turns 1 - cos(delta) into a squared
// distance comparable with the other terms.
constexpr double kDihedralLever = 1.5;  // Å

torch::Tensor pair_tensor(const std::vector<std::int64_t>& flat, std::int64_t width) {
  return torch::tensor(flat, torch::kInt64).reshape({-1, width});
}

// Segment of each atom: residues joined by peptide bonds share one; a chain
// end (from the dataset's termini) or a new chain identifier starts another.
std::vector<int> atom_segments(const Topology& topology, const std::vector<ResidueTermini>& termini) {
  const std::vector<Residue> residues = topology.residues();
  std::vector<int> segment(topology.atom_count(), 0);
  int current = 0;
  for (std::size_t r = 0; r < residues.size(); ++r) {
    if (r > 0) {
      const bool end = (r - 1 < termini.size() && termini[r - 1].c_terminal) ||
                       (r < termini.size() && termini[r].n_terminal) ||
                       topology.atom(residues[r].first_atom).chain != topology.atom(residues[r - 1].first_atom).chain;
      if (end) ++current;
    }
    for (std::size_t k = 0; k < residues[r].atom_count; ++k) segment[residues[r].first_atom + k] = current;
  }
  return segment;
}

// Index of the atom called `name` in residue `r`, or -1.
std::int64_t find_atom(const Topology& topology, const Residue& r, const char* name) {
  for (std::size_t k = 0; k < r.atom_count; ++k)
    if (topology.atom(r.first_atom + k).name == name) return static_cast<std::int64_t>(r.first_atom + k);
  return -1;
}

// [B, n, 3] positions of the atoms `index` of coords [B, 3, atoms].
torch::Tensor gather_atoms(const torch::Tensor& coords, const torch::Tensor& index) {
  return coords.index_select(2, index.reshape({-1})).transpose(1, 2);
}

// [B, pairs] distances of the pairs [pairs, 2].
torch::Tensor pair_distances(const torch::Tensor& coords, const torch::Tensor& pairs) {
  const auto a = gather_atoms(coords, pairs.select(1, 0)), b = gather_atoms(coords, pairs.select(1, 1));
  // The small constant keeps the gradient finite for coincident atoms.
  return ((a - b).pow(2).sum(2) + 1e-10).sqrt();
}

// [B, n, 2] unit (cos, sin) of the dihedrals of quadruples [n, 4].
torch::Tensor dihedral_directions(const torch::Tensor& coords, const torch::Tensor& quads) {
  const auto p0 = gather_atoms(coords, quads.select(1, 0)), p1 = gather_atoms(coords, quads.select(1, 1));
  const auto p2 = gather_atoms(coords, quads.select(1, 2)), p3 = gather_atoms(coords, quads.select(1, 3));
  const auto b1 = p1 - p0, b2 = p2 - p1, b3 = p3 - p2;
  const auto n1 = torch::cross(b1, b2, 2), n2 = torch::cross(b2, b3, 2);
  const auto m1 = torch::cross(n1, b2 / (b2.norm(2, 2, true) + 1e-8), 2);
  const auto xy = torch::stack({(n1 * n2).sum(2), (m1 * n2).sum(2)}, 2);
  return xy / (xy.norm(2, 2, true) + 1e-8);
}

// [B, n] signed height of CB over the N-CA-C plane (quadruples N, CA, C, CB):
// its sign is the residue's chirality.
torch::Tensor chirality_heights(const torch::Tensor& coords, const torch::Tensor& quads) {
  const auto n = gather_atoms(coords, quads.select(1, 0)), ca = gather_atoms(coords, quads.select(1, 1));
  const auto c = gather_atoms(coords, quads.select(1, 2)), cb = gather_atoms(coords, quads.select(1, 3));
  const auto normal = torch::cross(n - ca, c - ca, 2);
  return ((cb - ca) * normal).sum(2) / (normal.norm(2, 2) + 1e-8);
}

}  // namespace

GeometryLoss::GeometryLoss(const Dataset& dataset, const GeometryLossOptions& options, const ForceField* ff,
                           std::uint64_t seed)
    : options_(options), std_(dataset.std) {
  if (options.local_k < 1) throw InputError("--local-k must be at least 1, got " + std::to_string(options.local_k));
  const Topology& topology = dataset.topology;
  const auto atoms = static_cast<std::int64_t>(topology.atom_count());
  const std::vector<int> segment = atom_segments(topology, dataset.termini);

  if (ff && dataset.frame_count > 0) {
    Conformers c;
    c.topology = topology;
    c.termini = dataset.termini;
    c.frame_count = 1;
    c.xyz = dataset.frame_in_angstrom(0);
    c.source = "the dataset";
    const IdealGeometry ideal = ideal_geometry(*ff, c);
    std::vector<std::int64_t> pairs;
    std::vector<float> lengths;
    std::map<std::pair<std::size_t, std::size_t>, double> bond_length;
    for (const auto& b : ideal.bonds) {
      pairs.insert(pairs.end(), {static_cast<std::int64_t>(b.i), static_cast<std::int64_t>(b.j)});
      lengths.push_back(static_cast<float>(b.length / std_));
      bond_length[{std::min(b.i, b.j), std::max(b.i, b.j)}] = b.length;
    }
    bond_atoms_ = pair_tensor(pairs, 2);
    bond_lengths_ = torch::tensor(lengths);
    // An angle is held by its 1-3 distance (law of cosines on the ideal bond
    // lengths): a distance like the others, with no singularity at 180°.
    for (const auto& a : ideal.angles) {
      const auto ij = bond_length.find({std::min(a.i, a.j), std::max(a.i, a.j)});
      const auto jk = bond_length.find({std::min(a.j, a.k), std::max(a.j, a.k)});
      if (ij == bond_length.end() || jk == bond_length.end()) continue;
      const double x = ij->second, y = jk->second, theta = a.degrees * M_PI / 180.0;
      pairs.insert(pairs.end(), {static_cast<std::int64_t>(a.i), static_cast<std::int64_t>(a.k)});
      lengths.push_back(static_cast<float>(std::sqrt(x * x + y * y - 2 * x * y * std::cos(theta)) / std_));
    }
    bonded_atoms_ = pair_tensor(pairs, 2);
    bonded_lengths_ = torch::tensor(lengths);
  }

  std::vector<std::int64_t> chirality, dihedrals;
  const std::vector<Residue> residues = topology.residues();
  for (std::size_t r = 0; r < residues.size(); ++r) {
    const std::int64_t n = find_atom(topology, residues[r], "N"), ca = find_atom(topology, residues[r], "CA"),
                       c = find_atom(topology, residues[r], "C"), cb = find_atom(topology, residues[r], "CB");
    if (n < 0 || ca < 0 || c < 0) continue;
    if (cb >= 0) chirality.insert(chirality.end(), {n, ca, c, cb});
    if (r + 1 >= residues.size()) continue;
    const std::int64_t next_n = find_atom(topology, residues[r + 1], "N"),
                       next_ca = find_atom(topology, residues[r + 1], "CA"),
                       next_c = find_atom(topology, residues[r + 1], "C");
    if (next_n < 0 || next_ca < 0 || next_c < 0 || segment[static_cast<std::size_t>(c)] != segment[next_n]) continue;
    dihedrals.insert(dihedrals.end(), {n, ca, c, next_n});            // psi of r
    dihedrals.insert(dihedrals.end(), {ca, c, next_n, next_ca});      // omega
    dihedrals.insert(dihedrals.end(), {c, next_n, next_ca, next_c});  // phi of r + 1
  }
  chirality_atoms_ = pair_tensor(chirality, 4);
  dihedral_atoms_ = pair_tensor(dihedrals, 4);

  // AE-DM: local pairs at most k apart in atom order within a segment; the
  // non-local sample draws from the rest (up to 16 pairs per atom, fixed for
  // the run so that the loss is comparable between epochs).
  std::vector<std::int64_t> local;
  for (std::int64_t i = 0; i < atoms; ++i)
    for (std::int64_t j = i + 1; j <= std::min(atoms - 1, i + options.local_k); ++j)
      if (segment[static_cast<std::size_t>(i)] == segment[static_cast<std::size_t>(j)])
        local.insert(local.end(), {i, j});
  local_pairs_ = pair_tensor(local, 2);
  std::vector<std::int64_t> nonlocal;
  if (options.nonlocal_weight > 0 && atoms > options.local_k + 1) {
    std::mt19937_64 rng(seed ^ 0x9e3779b97f4a7c15ULL);
    std::uniform_int_distribution<std::int64_t> pick(0, atoms - 1);
    for (std::int64_t drawn = 0, tries = 0; drawn < 16 * atoms && tries < 64 * atoms; ++tries) {
      std::int64_t i = pick(rng), j = pick(rng);
      if (i > j) std::swap(i, j);
      if (j - i <= options.local_k && segment[static_cast<std::size_t>(i)] == segment[static_cast<std::size_t>(j)])
        continue;
      nonlocal.insert(nonlocal.end(), {i, j});
      ++drawn;
    }
  }
  nonlocal_pairs_ = pair_tensor(nonlocal, 2);

  if (options.bonded_weight > 0 && !has_bonds())
    throw InputError(
        "--bonded-weight: the dataset has no bonds the force field knows (no protein residues, or "
        "atoms such as CA alone that no template bonds)");
  if (options.local_weight > 0 && local_pairs_.size(0) == 0)
    throw InputError("--local-weight: the dataset has no pairs of atoms within --local-k of each other");
  if (options.dihedral_weight > 0 && dihedral_atoms_.size(0) == 0)
    throw InputError(
        "--dihedral-weight: the dataset has no backbone dihedrals (it needs N, CA and C atoms of "
        "consecutive residues)");
}

std::vector<std::tuple<std::string, double, LossTerm>> GeometryLoss::terms() const {
  std::vector<std::tuple<std::string, double, LossTerm>> terms;
  const auto distance_term = [](torch::Tensor pairs, torch::Tensor target) -> LossTerm {
    return [pairs, target](const LossInputs& in) {
      const auto wanted = target.defined() ? target : pair_distances(in.input, pairs);
      return (pair_distances(in.reconstruction, pairs) - wanted).pow(2).mean();
    };
  };
  if (options_.bonded_weight > 0) {
    const auto distances = distance_term(bonded_atoms_, bonded_lengths_);
    const torch::Tensor chirality = chirality_atoms_;
    terms.emplace_back("bonded", options_.bonded_weight, [distances, chirality](const LossInputs& in) {
      auto value = distances(in);
      // Chirality: CB's height over the N-CA-C plane, against the input's
      // (a mirrored residue is off by twice the height, about 1.6 Å).
      if (chirality.size(0) > 0)
        value =
            value +
            (chirality_heights(in.reconstruction, chirality) - chirality_heights(in.input, chirality)).pow(2).mean();
      return value;
    });
  }
  if (options_.local_weight > 0)
    terms.emplace_back("local_distance", options_.local_weight, distance_term(local_pairs_, torch::Tensor()));
  if (options_.nonlocal_weight > 0 && nonlocal_pairs_.size(0) > 0)
    terms.emplace_back("nonlocal_distance", options_.nonlocal_weight, distance_term(nonlocal_pairs_, torch::Tensor()));
  if (options_.dihedral_weight > 0) {
    const torch::Tensor quads = dihedral_atoms_;
    const double lever = kDihedralLever / std_;
    terms.emplace_back("dihedral", options_.dihedral_weight, [quads, lever](const LossInputs& in) {
      const auto cos_delta =
          (dihedral_directions(in.reconstruction, quads) * dihedral_directions(in.input, quads)).sum(2);
      return (2 * lever * lever) * (1 - cos_delta).mean();
    });
  }
  return terms;
}

std::pair<torch::Tensor, torch::Tensor> GeometryLoss::bond_deviation(const torch::Tensor& coords) const {
  const auto deviation = (pair_distances(coords, bond_atoms_) - bond_lengths_) * std_;
  return {deviation.pow(2).mean(1).sqrt(), (deviation.abs() > 0.1).sum(1)};
}

}  // namespace molearn
