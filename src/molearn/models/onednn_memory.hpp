// oneDNN memories over torch tensors, for the chains that call oneDNN
// directly (models/onednn_conv_chain.hpp, models/folding_layer_onednn.hpp):
// the bytes are a torch tensor's, so that libtorch's allocator (and the
// kept-memory policy of core/allocator.hpp) serves them.
#pragma once

#include <torch/torch.h>

#include "molearn/models/onednn_engine.hpp"

namespace molearn::onednn {

dnnl::memory::data_type onednn_type(torch::ScalarType type);  // kBFloat16 -> bf16, else f32

struct Buffer {
  dnnl::memory mem;
  torch::Tensor storage;  // owns mem's bytes
};

// A new memory of `desc`.
Buffer allocate(const dnnl::memory::desc& desc);
// `desc` over storage's bytes.
Buffer bind(const dnnl::memory::desc& desc, const torch::Tensor& storage);
// A torch tensor as oneDNN sees it (contiguous): plain layout, its own type;
// [B, C, N] activations and [O, I, K] weights with a height of 1 inserted,
// as libtorch runs Conv1d.
Buffer plain(const torch::Tensor& tensor);
// `from` in the layout and type `desc`: itself if it already is.
Buffer convert(dnnl::stream& stream, const Buffer& from, const dnnl::memory::desc& desc);
// A (blocked) result as a plain torch tensor of `sizes` and `type`.
torch::Tensor to_torch(dnnl::stream& stream, const Buffer& from, torch::IntArrayRef sizes, torch::ScalarType type);

}  // namespace molearn::onednn
