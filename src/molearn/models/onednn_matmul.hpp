// A float matrix product through oneDNN's matmul primitive, on the operands'
// own strides.
//
// Why not torch::mm or a 1x1 convolution: torch::mm goes to OpenBLAS, about
// 1.7x slower than oneDNN at the kNN's sizes, and libtorch's 1x1 convolution
// (what the kNN used before) converts its input, its filters and its output
// between layouts on every call: in a bf16 FoldingNet training step those
// conversions of the kNN's fp32 products cost half as much as the products
// themselves (DNNL_VERBOSE, bench/README.md).
#pragma once

#include <torch/torch.h>

namespace molearn::onednn {

// a [M, K] times b [K, N], both float32 with any strides (a transposed view
// costs nothing): a new contiguous [M, N] float32 tensor.
torch::Tensor matmul(const torch::Tensor& a, const torch::Tensor& b);

}  // namespace molearn::onednn
