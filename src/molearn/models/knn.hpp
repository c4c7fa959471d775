// Fused k-nearest-neighbour kernels of the FoldingNet encoder.
//
// The straightforward libtorch formulation (as in Python molearn) builds a
// dense [B, N, N] distance tensor, runs topk on it and gathers a
// [B, N, k, C] tensor of neighbour features. At protein sizes (N in the
// thousands) that is about half of the encoder's time and most of its memory.
// The kernels here never materialise either tensor:
//   * knn_indices computes the distances of a block of rows at a time
//     ([B, R, N], R chosen to keep it near 16 MB; for xyz, one row per
//     worker) and keeps a running top-k per row;
//   * neighbour_max and local_covariance read the neighbours straight from
//     the [B, C, N] input and have hand-written backward passes (first
//     derivatives only).
// All of them run on CPU tensors of float or double and split their work over
// torch::get_num_threads() threads.
//
// The *_reference functions are the plain-libtorch formulations, kept for
// tests and benchmarks.
#pragma once

#include <torch/torch.h>

#include <cstdint>

namespace molearn::knn {

// Indices of the k nearest points of every point, by squared Euclidean
// distance over the C channels; a point is its own nearest neighbour
// (distance 0). x: [B, C, N]; returns int64 [B, N, k], nearest first. Ties
// are broken arbitrarily. Requires 1 <= k <= N. No gradient.
torch::Tensor knn_indices(const torch::Tensor& x, std::int64_t k);

// out[b, c, i] = max_j x[b, c, idx[b, i, j]]. x: [B, C, N], idx: [B, M, k]
// with values in [0, N); returns [B, C, M]. Differentiable with respect to x:
// the gradient goes to the neighbour that held the maximum.
torch::Tensor neighbour_max(const torch::Tensor& x, const torch::Tensor& idx);

// Covariance of every point's neighbourhood in 3D: for point i with
// neighbours P = x[b, :, idx[b, i, :]]^T ([k, 3]) and Y = P - mean(P),
// out[b, 3r + s, i] = (Y^T Y)[r, s] (a sum, not divided by k).
// x: [B, 3, N], idx: [B, N, k]; returns [B, 9, N]. Differentiable with
// respect to x (the neighbour indices are treated as constants).
torch::Tensor local_covariance(const torch::Tensor& x, const torch::Tensor& idx);

// Plain-libtorch equivalents: dense distances + topk, gather + max,
// gather + matmul. Differentiable through libtorch's own autograd.
torch::Tensor knn_indices_reference(const torch::Tensor& x, std::int64_t k);
torch::Tensor neighbour_max_reference(const torch::Tensor& x, const torch::Tensor& idx);
torch::Tensor local_covariance_reference(const torch::Tensor& x, const torch::Tensor& idx);

}  // namespace molearn::knn
