// A decoder's last layer, whose outputs are coordinates, in fp32 when a model
// decodes under bf16 autocast.
//
// Why: bf16 keeps 8 bits of mantissa, so a bf16 output puts decoded atoms on
// a grid of about 0.4 % of their coordinates (0.05-0.1 A). On a 2MI7
// FoldingNet 131 pairs of atoms of one decoded structure fell on the same
// point, and OpenMM's minimiser (`molearn relax`) could not part them. The
// layer's inputs stay bf16; it accumulates and writes in fp32. Training
// keeps the bf16 output its accuracy was measured with (bench/README.md).
#pragma once

#include <ATen/autocast_mode.h>
#include <c10/core/impl/LocalDispatchKeySet.h>
#include <torch/torch.h>

namespace molearn {

// layer(x), in fp32 if `decoding` (the model in evaluation mode) under bf16
// autocast; as autocast has it otherwise.
template <typename Layer>
torch::Tensor coordinates_layer(Layer& layer, const torch::Tensor& x, bool decoding) {
  if (!decoding || !at::autocast::is_cpu_enabled()) return layer->forward(x);
  const c10::impl::ExcludeDispatchKeyGuard no_autocast(c10::DispatchKey::AutocastCPU);
  return layer->forward(x.to(torch::kFloat32));
}

}  // namespace molearn
