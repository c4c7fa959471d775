// FoldingNet's folding layer, conv3(relu(bn2(conv2(relu(bn1(conv1(x))))))) with
// k = 3 convolutions and batch norms on batch statistics, as one autograd
// function written against oneDNN directly.
//
// Why by hand: libtorch 1.13 runs each convolution through oneDNN but hands
// it tensors in its plain [B, C, N] layout, so every convolution converts
// its input, its output and, backwards, its gradients to oneDNN's blocked
// layout and back (38 % of oneDNN's time in a bf16 training step, 31 % in
// fp32; bench/README.md). libtorch has no training batch norm for tensors
// kept in oneDNN's layout, so the chain cannot stay blocked through
// libtorch. Here the three convolutions, the two batch norms and their ReLUs
// run as oneDNN primitives on blocked tensors; only the layer's input, its
// output and their gradients are converted. oneDNN is Debian's libdnnl-dev,
// the very libdnnl.so.2 libtorch itself runs on.
//
// Numerics are those of the libtorch chain: batch statistics over batch and
// length, biased variance for normalising, unbiased for the running
// variance, eps and momentum of the BatchNorm; bf16 activations with fp32
// weights' gradients, statistics and batch-norm parameters under bf16.
//
// In evaluation mode the layer runs as a chain of folded convolutions
// instead (models/onednn_conv_chain.hpp).
#pragma once

#include <torch/torch.h>

#include "molearn/models/batch_norm.hpp"

namespace molearn::onednn {

struct FoldingLayerParameters {
  torch::nn::Conv1d conv1, conv2, conv3;  // kernel 3, padding 1, with bias
  BatchNorm bn1, bn2;                     // in training mode
};

// Whether the chain can run here at `dtype` (kFloat32 or kBFloat16) for
// these channel counts: false where oneDNN has no implementation (bf16 on a
// CPU without AVX-512, say). Decided once per shape and remembered.
bool folding_layer_supported(std::int64_t in_channels, std::int64_t hidden, std::int64_t out_channels,
                             torch::ScalarType dtype);

// x: [B, in, N] in fp32 or bf16. Returns [B, out, N] in `dtype`, and updates
// the batch norms' running statistics and batch counts as their forward
// does. Differentiable in x and in every parameter.
torch::Tensor folding_layer_training(const torch::Tensor& x, const FoldingLayerParameters& layer,
                                     torch::ScalarType dtype);

}  // namespace molearn::onednn
