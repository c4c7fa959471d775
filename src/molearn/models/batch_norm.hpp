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

// Differentiable sum of a tensor over all processes of a data-parallel run.
using CrossProcessSum = std::function<torch::Tensor(const torch::Tensor&)>;

class BatchNormImpl : public torch::nn::Module {
 public:
  explicit BatchNormImpl(std::int64_t features, double eps = 1e-5, double momentum = 0.1);
  torch::Tensor forward(const torch::Tensor& input);

  // The process group of this layer, as PyTorch's SyncBatchNorm has one:
  // while set, training mode normalises with statistics summed over its
  // processes (an empty function: this process alone).
  void set_process_group(CrossProcessSum sum) { cross_process_sum_ = std::move(sum); }
  bool has_process_group() const { return static_cast<bool>(cross_process_sum_); }

  // What forward does to the running statistics and the batch count, for a
  // training batch normalised elsewhere (the oneDNN folding layer) with this
  // batch's per-channel mean and biased variance over `count` values.
  void record_batch_statistics(const torch::Tensor& mean, const torch::Tensor& biased_variance, std::int64_t count);
  double eps() const { return eps_; }

  torch::Tensor weight, bias, running_mean, running_var, num_batches_tracked;

 private:
  torch::Tensor cross_process_forward(const torch::Tensor& x);
  double eps_, momentum_;
  CrossProcessSum cross_process_sum_;
};
TORCH_MODULE(BatchNorm);

// Gives every BatchNorm of `model` the process group `sum` (PyTorch's
// SyncBatchNorm.convert_sync_batchnorm, without replacing modules: ours
// already are). Returns how many layers it set.
std::size_t set_batch_norm_process_group(torch::nn::Module& model, const CrossProcessSum& sum);

}  // namespace molearn
