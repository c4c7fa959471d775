// A prepared dataset as torch tensors, ready for batching: every frame in
// memory, or frames read from the .mlds file when a batch needs them.
#pragma once

#include <torch/torch.h>

#include <memory>
#include <string>

#include "molearn/data/dataset.hpp"
#include "molearn/data/dataset_frames.hpp"

namespace molearn {

struct TensorDataset {
  torch::Tensor coords;  // in memory: [frames, 3, atoms], float32, channels first as the models expect
  std::shared_ptr<DatasetFrameReader> reader;  // streamed from the file instead (coords undefined)
  torch::Tensor train_indices;                 // int64
  torch::Tensor valid_indices;                 // int64

  // [rows, 3, atoms]: the frames `rows` (int64), the same values whether in
  // memory or streamed.
  torch::Tensor frames(const torch::Tensor& rows) const;
  bool streamed() const { return reader != nullptr; }
};

// Every frame of `dataset` (read with its coordinates) in memory.
TensorDataset to_tensors(const Dataset& dataset);

// Frames read from `path` on demand; `metadata` and `section` are its
// read_dataset_metadata. Checks the file's coordinates once in bounded memory.
TensorDataset stream_tensors(const std::string& path, const Dataset& metadata, const DatasetDataSection& section);

// Per-structure RMSD in Å between two [B, 3, N] tensors in scaled units.
torch::Tensor rmsd_angstrom(const torch::Tensor& a, const torch::Tensor& b, double std);

}  // namespace molearn
