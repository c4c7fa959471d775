#include "molearn/data/prepare.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <string>
#include <tuple>

#include "molearn/core/error.hpp"
#include "molearn/core/random.hpp"
#include "molearn/data/geometry.hpp"
#include "molearn/io/residue_names.hpp"
#include "molearn/io/trajectory_reader.hpp"

namespace molearn {

namespace {

// A PDB/mmCIF input read with a separate topology must list the same atoms.
void check_same_atoms(const std::string& path, const Topology& input, const Topology& topology,
                      const std::string& topology_path) {
  for (std::size_t i = 0; i < topology.atom_count(); ++i) {
    const Atom& a = input.atom(i);
    const Atom& b = topology.atom(i);
    if (a.name != b.name || a.res_seq != b.res_seq)
      throw FormatError(path + ": atom " + std::to_string(i + 1) + " is " + a.name + " of residue " +
                        std::to_string(a.res_seq) + " but in " + topology_path + " it is " + b.name + " of residue " +
                        std::to_string(b.res_seq));
  }
}

using ResidueKey = std::tuple<std::string, int, char, std::string>;
ResidueKey key_of(const Atom& a) { return {a.chain, a.res_seq, a.ins_code, a.res_name}; }

// Termini are found on the full structure (all atoms) and carried over to the
// residues of the selection.
std::vector<ResidueTermini> selected_termini(const Topology& full, std::span<const float> full_xyz,
                                             const Topology& selected) {
  const auto full_termini = find_termini(full, full_xyz);
  const auto full_residues = full.residues();
  std::map<ResidueKey, ResidueTermini> by_key;
  for (std::size_t r = 0; r < full_residues.size(); ++r)
    by_key[key_of(full.atom(full_residues[r].first_atom))] = full_termini[r];
  std::vector<ResidueTermini> result;
  for (const Residue& r : selected.residues()) result.push_back(by_key[key_of(selected.atom(r.first_atom))]);
  return result;
}

std::vector<std::size_t> evenly_spaced(std::size_t total, std::size_t wanted) {
  std::vector<std::size_t> picked;
  if (wanted >= total) {
    for (std::size_t i = 0; i < total; ++i) picked.push_back(i);
  } else if (wanted == 1) {
    picked.push_back(0);
  } else {
    for (std::size_t i = 0; i < wanted; ++i)
      picked.push_back(static_cast<std::size_t>(std::llround(static_cast<double>(i) * (total - 1) / (wanted - 1))));
  }
  return picked;
}

void keep_frames(Dataset& d, const std::vector<std::size_t>& frames) {
  const std::size_t stride = d.atom_count() * 3;
  std::vector<float> coords;
  std::vector<FrameOrigin> origins;
  coords.reserve(frames.size() * stride);
  for (std::size_t f : frames) {
    coords.insert(coords.end(), d.coords.begin() + f * stride, d.coords.begin() + (f + 1) * stride);
    origins.push_back(d.origins[f]);
  }
  d.coords = std::move(coords);
  d.origins = std::move(origins);
  d.frame_count = frames.size();
}

// Centre each frame, optionally superpose on the first, then scale by one
// global mean and standard deviation (numpy's std, ddof = 0, as Python molearn).
void standardise(Dataset& d, bool align) {
  const std::size_t n = d.atom_count() * 3;
  for (std::size_t f = 0; f < d.frame_count; ++f) {
    std::span<float> xyz(d.coords.data() + f * n, n);
    centre(xyz);
    if (align && f > 0) superpose(xyz, std::span<const float>(d.coords.data(), n));
  }
  double sum = 0;
  for (float x : d.coords) sum += x;
  d.mean = sum / static_cast<double>(d.coords.size());
  double squares = 0;
  for (float x : d.coords) squares += (x - d.mean) * (x - d.mean);
  d.std = std::sqrt(squares / static_cast<double>(d.coords.size()));
  if (!(d.std > 0)) throw InputError("the selected coordinates have zero spread (a single atom?); nothing to learn");
  for (float& x : d.coords) x = static_cast<float>((x - d.mean) / d.std);
}

}  // namespace

void split_dataset(Dataset& d, double valid_fraction, std::uint64_t seed) {
  if (!(valid_fraction >= 0 && valid_fraction < 1))
    throw InputError("validation fraction must be in [0, 1), got " + std::to_string(valid_fraction));
  auto valid_size = static_cast<std::size_t>(std::floor(static_cast<double>(d.frame_count) * valid_fraction));
  // floor() as Python molearn, but a small ensemble (3 frames x 0.1) would
  // get no validation frame at all and `train` would refuse it: keep one.
  if (valid_size == 0 && valid_fraction > 0 && d.frame_count >= 2) valid_size = 1;
  std::mt19937_64 rng(seed);
  const auto order = seeded_permutation(d.frame_count, rng);
  const std::size_t train_size = d.frame_count - valid_size;
  d.train_indices.assign(order.begin(), order.begin() + train_size);
  d.valid_indices.assign(order.begin() + train_size, order.end());
  std::sort(d.train_indices.begin(), d.train_indices.end());
  std::sort(d.valid_indices.begin(), d.valid_indices.end());
}

Dataset prepare_dataset(const PrepareOptions& options, const PrepareProgressFn& progress) {
  if (options.inputs.empty()) throw InputError("no input files given");
  if (options.stride == 0) throw InputError("stride must be at least 1");
  Topology full = read_topology_for(options.inputs.front(), options.topology);
  const std::string topology_path = options.topology.empty() ? options.inputs.front() : options.topology;
  rename_terminal_oxygens(full);
  const std::vector<std::size_t> selected = select_atoms(full, options.selection);

  Dataset d;
  d.topology = full.subset(selected);
  d.topology_source = topology_path;
  d.sources = options.inputs;
  std::vector<float> first_full_frame;
  Frame frame;
  for (std::size_t file = 0; file < options.inputs.size(); ++file) {
    const std::string& path = options.inputs[file];
    auto reader = open_trajectory(path, &full);
    if (path != topology_path && format_has_topology(format_from_path(path)))
      check_same_atoms(path, read_topology(path), full, topology_path);
    PrepareProgress status{path, 0, reader->frame_count(), false};
    for (std::size_t index = 0;; ++index) {
      const bool wanted = index % options.stride == 0;
      if (!(wanted ? reader->read(frame) : reader->skip())) break;
      status.frames_read = index + 1;
      if (progress && status.frames_read % 1000 == 0) progress(status);
      if (!wanted) continue;
      if (first_full_frame.empty()) first_full_frame = frame.xyz;
      for (std::size_t i : selected) d.coords.insert(d.coords.end(), &frame.xyz[3 * i], &frame.xyz[3 * i] + 3);
      d.origins.push_back({static_cast<std::uint32_t>(file), index});
      ++d.frame_count;
    }
    if (status.frames_read == 0) throw FormatError(path + ": contains no frames");
    status.file_done = true;
    if (progress) progress(status);
  }
  if (options.max_frames > 0 && options.max_frames < d.frame_count)
    keep_frames(d, evenly_spaced(d.frame_count, options.max_frames));

  d.termini = selected_termini(full, first_full_frame, d.topology);
  canonicalise_residue_names(d.topology);
  standardise(d, options.align);
  split_dataset(d, options.valid_fraction, options.seed);
  d.settings = {{"atoms", options.selection.atoms},
                {"residues", options.selection.residues},
                {"remove_hydrogens", options.selection.remove_hydrogens},
                {"align", options.align},
                {"centred", true},
                {"stride", options.stride},
                {"max_frames", options.max_frames},
                {"valid_fraction", options.valid_fraction},
                {"seed", options.seed}};
  return d;
}

}  // namespace molearn
