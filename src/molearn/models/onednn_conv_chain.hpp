// Convolutions in evaluation mode as one oneDNN chain: each convolution with
// its batch norm folded into its weights and its ReLU as a post-op, the
// activations kept in oneDNN's blocked layout from the first convolution to
// the last. Libtorch would convert every activation to its plain [B, C, N]
// layout and back between layers (a [16, 1024, 2145] tensor twice per batch
// in FoldingNet's encoder: 16 % of oneDNN's time in a bf16 MurD forward pass)
// and run each ReLU as a pass of its own.
//
// Used for decoding (FoldingNet's folding layers) and encoding (its last
// graph layer and conv4) in evaluation mode without gradients.
#pragma once

#include <torch/torch.h>

#include <vector>

#include "molearn/models/onednn_memory.hpp"

namespace molearn::onednn {

// A convolution with its batch norm (if any) folded in: weight [out, in, k]
// with k odd ("same" padding, stride 1), bias [out], both fp32.
struct FoldedConv {
  torch::Tensor weight, bias;
};

struct ChainLink {
  FoldedConv conv;
  bool relu;  // ReLU after the convolution
};

// Whether oneDNN runs this chain here with convolutions in `dtype` and the
// last one writing `out_type` (each kFloat32 or kBFloat16): false where it
// has no implementation (bf16 on a CPU without AVX-512, say). Decided once
// per shape and remembered.
bool conv_chain_supported(std::int64_t in_channels, const std::vector<ChainLink>& links, torch::ScalarType dtype,
                          torch::ScalarType out_type);

// x: [B, in, N] in fp32 or bf16; convolutions in `dtype`, the last one
// accumulating and writing `out_type`. Returns [B, out, N]. Not differentiable.
torch::Tensor conv_chain_inference(const torch::Tensor& x, const std::vector<ChainLink>& links, torch::ScalarType dtype,
                                   torch::ScalarType out_type);

// One convolution of `pd` on oneDNN buffers (src in pd's layout), with
// weights and bias from torch tensors (weights converted to pd's layout);
// also the training chain's forward step (models/folding_layer_onednn.cpp).
Buffer conv_forward(dnnl::stream& stream, const dnnl::convolution_forward::primitive_desc& pd, const Buffer& src,
                    const torch::Tensor& weight, const torch::Tensor& bias);

}  // namespace molearn::onednn
