// A prepared dataset as torch tensors, ready for batching.
#pragma once

#include <torch/torch.h>

#include "molearn/data/dataset.hpp"

namespace molearn {

struct TensorDataset {
  torch::Tensor coords;         // [frames, 3, atoms], float32, channels first as the models expect
  torch::Tensor train_indices;  // int64
  torch::Tensor valid_indices;  // int64
};

TensorDataset to_tensors(const Dataset& dataset);

// Per-structure RMSD in Å between two [B, 3, N] tensors in scaled units.
torch::Tensor rmsd_angstrom(const torch::Tensor& a, const torch::Tensor& b, double std);

}  // namespace molearn
