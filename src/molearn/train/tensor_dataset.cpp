#include "molearn/train/tensor_dataset.hpp"

namespace molearn {

namespace {

torch::Tensor index_tensor(const std::vector<std::size_t>& indices) {
  std::vector<std::int64_t> values(indices.begin(), indices.end());
  return torch::tensor(values, torch::kInt64);
}

}  // namespace

TensorDataset to_tensors(const Dataset& dataset) {
  const auto frames = static_cast<std::int64_t>(dataset.frame_count);
  const auto atoms = static_cast<std::int64_t>(dataset.atom_count());
  auto coords = torch::from_blob(const_cast<float*>(dataset.coords.data()), {frames, atoms, 3}, torch::kFloat32);
  return {coords.permute({0, 2, 1}).contiguous(), index_tensor(dataset.train_indices),
          index_tensor(dataset.valid_indices)};
}

torch::Tensor rmsd_angstrom(const torch::Tensor& a, const torch::Tensor& b, double std) {
  // Mean over atoms of the squared distance, summed over x, y, z.
  return (a - b).pow(2).sum(1).mean(1).sqrt() * std;
}

}  // namespace molearn
