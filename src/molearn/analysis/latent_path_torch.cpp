#include "molearn/analysis/latent_path_torch.hpp"

#include <torch/torch.h>

#include <algorithm>
#include <filesystem>

#include "molearn/analysis/structure_matching_to_topology.hpp"
#include "molearn/core/error.hpp"
#include "molearn/data/geometry.hpp"
#include "molearn/train/autocast_model.hpp"
#include "molearn/train/tensor_dataset.hpp"

namespace molearn {

namespace {

std::vector<std::vector<double>> rows_of(const torch::Tensor& z) {
  const auto d = z.to(torch::kFloat64).contiguous();
  std::vector<std::vector<double>> rows;
  for (std::int64_t r = 0; r < d.size(0); ++r)
    rows.emplace_back(d[r].data_ptr<double>(), d[r].data_ptr<double>() + d.size(1));
  return rows;
}

// Å frames [F, N, 3] -> model input [F, 3, N] in the checkpoint's scaling.
torch::Tensor model_input(const std::vector<float>& angstrom, std::size_t atoms, const CheckpointState& state) {
  auto t = torch::from_blob(
      const_cast<float*>(angstrom.data()),
      {static_cast<std::int64_t>(angstrom.size() / (atoms * 3)), static_cast<std::int64_t>(atoms), 3}, torch::kFloat32);
  return ((t - state.mean) / state.std).permute({0, 2, 1}).contiguous();
}

std::string atom_label(const Atom& a) { return a.chain + ":" + a.res_name + std::to_string(a.res_seq) + ":" + a.name; }

}  // namespace

void check_dataset_matches(const Dataset& dataset, const std::string& dataset_path, const CheckpointState& state) {
  const auto& mine = dataset.topology.atoms();
  const auto& theirs = state.topology.atoms();
  if (mine.size() != theirs.size())
    throw InputError(dataset_path + ": has " + std::to_string(mine.size()) +
                     " atoms, but the checkpoint's model was trained on " + std::to_string(theirs.size()) +
                     " (a dataset of another topology or atom selection)");
  for (std::size_t i = 0; i < mine.size(); ++i)
    if (mine[i].name != theirs[i].name || mine[i].res_name != theirs[i].res_name ||
        mine[i].res_seq != theirs[i].res_seq)
      throw InputError(dataset_path + ": atom " + std::to_string(i + 1) + " is " + atom_label(mine[i]) +
                       ", but the checkpoint's topology has " + atom_label(theirs[i]) +
                       " there (a dataset of another topology)");
}

std::vector<std::vector<double>> encode_dataset(AutoencoderImpl& model, const CheckpointState& state,
                                                const Dataset& dataset, bool bf16) {
  torch::NoGradGuard no_grad;
  model.eval();
  const std::size_t atoms = dataset.atom_count();
  constexpr std::size_t kChunk = 16;
  std::vector<std::vector<double>> latent;
  for (std::size_t start = 0; start < dataset.frame_count; start += kChunk) {
    const std::size_t end = std::min(dataset.frame_count, start + kChunk);
    torch::Tensor x;
    if (dataset.mean == state.mean && dataset.std == state.std) {
      // The training dataset goes in exactly as training saw it.
      x = torch::from_blob(const_cast<float*>(dataset.coords.data() + start * atoms * 3),
                           {static_cast<std::int64_t>(end - start), static_cast<std::int64_t>(atoms), 3},
                           torch::kFloat32)
              .permute({0, 2, 1})
              .contiguous();
    } else {
      std::vector<float> angstrom;
      for (std::size_t f = start; f < end; ++f) {
        const auto frame = dataset.frame_in_angstrom(f);
        angstrom.insert(angstrom.end(), frame.begin(), frame.end());
      }
      x = model_input(angstrom, atoms, state);
    }
    for (auto& row : rows_of(encode_autocast(model, x, bf16))) latent.push_back(std::move(row));
  }
  return latent;
}

PathEndpoint parse_endpoint(const std::string& text) {
  if (text.empty()) throw InputError("an empty path endpoint: give a dataset frame index or a structure file");
  PathEndpoint e;
  if (std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; }) &&
      !std::filesystem::exists(text)) {
    if (text.size() > 12) throw InputError("frame index '" + text + "' is out of range");
    e.frame = std::stoull(text);
  } else {
    e.file = text;
  }
  return e;
}

std::vector<double> encode_endpoint(AutoencoderImpl& model, const CheckpointState& state, const Dataset& dataset,
                                    const std::string& dataset_path, const PathEndpoint& endpoint,
                                    const std::string& topology_path, bool bf16) {
  torch::NoGradGuard no_grad;
  model.eval();
  const std::size_t atoms = state.topology.atom_count();
  std::vector<float> angstrom;
  if (endpoint.frame) {
    if (*endpoint.frame >= dataset.frame_count)
      throw InputError(dataset_path + ": has " + std::to_string(dataset.frame_count) + " frames; frame " +
                       std::to_string(*endpoint.frame) + " does not exist (frames are numbered from 0)");
    if (dataset.mean == state.mean && dataset.std == state.std) {
      const auto frame = dataset.frame(*endpoint.frame);
      auto x =
          torch::from_blob(const_cast<float*>(frame.data()), {1, static_cast<std::int64_t>(atoms), 3}, torch::kFloat32)
              .permute({0, 2, 1})
              .contiguous();
      return rows_of(encode_autocast(model, x, bf16)).front();
    }
    angstrom = dataset.frame_in_angstrom(*endpoint.frame);
  } else {
    if (!std::filesystem::exists(endpoint.file))
      throw InputError(endpoint.file + ": no such structure file (a path endpoint is a dataset frame index or a file)");
    angstrom = coordinates_in_topology_order(state.topology, endpoint.file, topology_path);
    // Prepared as the dataset's frames were: centred, superposed when aligned.
    centre(angstrom);
    const bool aligned = dataset.settings.is_object() && dataset.settings.value("align", false);
    if (aligned && dataset.frame_count > 0) superpose(angstrom, dataset.frame_in_angstrom(0));
  }
  return rows_of(encode_autocast(model, model_input(angstrom, atoms, state), bf16)).front();
}

}  // namespace molearn
