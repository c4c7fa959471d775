#include "molearn/train/tensor_dataset.hpp"

namespace molearn {

namespace {

torch::Tensor index_tensor(const std::vector<std::size_t>& indices) {
  std::vector<std::int64_t> values(indices.begin(), indices.end());
  return torch::tensor(values, torch::kInt64);
}

}  // namespace

torch::Tensor TensorDataset::frames(const torch::Tensor& rows) const {
  if (!reader) return coords.index_select(0, rows);
  const auto index = rows.to(torch::kInt64).contiguous();
  const std::vector<std::size_t> wanted(index.data_ptr<std::int64_t>(), index.data_ptr<std::int64_t>() + index.numel());
  const auto atoms = static_cast<std::int64_t>(reader->floats_per_frame() / 3);
  auto batch = torch::empty({index.numel(), atoms, 3}, torch::kFloat32);
  reader->read(wanted, batch.data_ptr<float>());
  return batch.permute({0, 2, 1}).contiguous();
}

TensorDataset to_tensors(const Dataset& dataset) {
  const auto frames = static_cast<std::int64_t>(dataset.frame_count);
  const auto atoms = static_cast<std::int64_t>(dataset.atom_count());
  auto coords = torch::from_blob(const_cast<float*>(dataset.coords.data()), {frames, atoms, 3}, torch::kFloat32);
  return {coords.permute({0, 2, 1}).contiguous(), nullptr, index_tensor(dataset.train_indices),
          index_tensor(dataset.valid_indices)};
}

TensorDataset stream_tensors(const std::string& path, const Dataset& metadata, const DatasetDataSection& section) {
  return {torch::Tensor(), std::make_shared<DatasetFrameReader>(path, metadata, section),
          index_tensor(metadata.train_indices), index_tensor(metadata.valid_indices)};
}

torch::Tensor rmsd_angstrom(const torch::Tensor& a, const torch::Tensor& b, double std) {
  // Mean over atoms of the squared distance, summed over x, y, z.
  return (a - b).pow(2).sum(1).mean(1).sqrt() * std;
}

}  // namespace molearn
