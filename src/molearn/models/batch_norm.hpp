// Batch normalisation over [B, C, L] whose training statistics can span all
// processes of a data-parallel run, so that W processes with B/W structures
// each compute what one process with B structures computes.
//
// Parameter and buffer names are those of torch::nn::BatchNorm1d (weight,
// bias, running_mean, running_var, num_batches_tracked), so weights move
// freely between the two. Outside a data-parallel run it calls the same
// torch::batch_norm as torch::nn::BatchNorm1d and gives identical results.
#pragma once

#include <torch/torch.h>

#include <functional>

namespace molearn {

class BatchNormImpl : public torch::nn::Module {
 public:
  explicit BatchNormImpl(std::int64_t features, double eps = 1e-5, double momentum = 0.1);
  torch::Tensor forward(const torch::Tensor& input);

  torch::Tensor weight, bias, running_mean, running_var, num_batches_tracked;

 private:
  torch::Tensor cross_process_forward(const torch::Tensor& x);
  double eps_, momentum_;
};
TORCH_MODULE(BatchNorm);

// Differentiable sum of a tensor over all processes. While set, BatchNorm in
// training mode normalises with statistics summed over processes.
using CrossProcessSum = std::function<torch::Tensor(const torch::Tensor&)>;
void set_cross_process_sum(CrossProcessSum sum);  // an empty function turns it off

}  // namespace molearn
