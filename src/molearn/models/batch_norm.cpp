#include "molearn/models/batch_norm.hpp"

namespace molearn {

std::size_t set_batch_norm_process_group(torch::nn::Module& model, const CrossProcessSum& sum) {
  std::size_t layers = 0;
  for (const auto& module : model.modules(/*include_self=*/true))
    if (auto* bn = dynamic_cast<BatchNormImpl*>(module.get())) {
      bn->set_process_group(sum);
      ++layers;
    }
  return layers;
}

BatchNormImpl::BatchNormImpl(std::int64_t features, double eps, double momentum) : eps_(eps), momentum_(momentum) {
  weight = register_parameter("weight", torch::ones({features}));
  bias = register_parameter("bias", torch::zeros({features}));
  running_mean = register_buffer("running_mean", torch::zeros({features}));
  running_var = register_buffer("running_var", torch::ones({features}));
  num_batches_tracked = register_buffer("num_batches_tracked", torch::zeros({}, torch::kInt64));
}

torch::Tensor BatchNormImpl::forward(const torch::Tensor& input) {
  if (is_training()) {
    torch::NoGradGuard no_grad;
    num_batches_tracked += 1;
  }
  // Under bfloat16 autocast the convolution before comes in bf16. libtorch's
  // CPU batch norm takes bf16 activations with fp32 weights and statistics
  // and accumulates in fp32, so they stay bf16: casting them to fp32 and back
  // for the next convolution cost as much as the normalisation itself.
  // Across processes the sums are in double precision anyway: fp32 goes on.
  if (is_training() && cross_process_sum_) return cross_process_forward(input.to(torch::kFloat32));
  return torch::batch_norm(input, weight, bias, running_mean, running_var, is_training(), momentum_, eps_,
                           /*cudnn_enabled=*/false);
}

void BatchNormImpl::record_batch_statistics(const torch::Tensor& mean, const torch::Tensor& biased_variance,
                                            std::int64_t count) {
  torch::NoGradGuard no_grad;
  num_batches_tracked += 1;
  const double unbiased = count > 1 ? static_cast<double>(count) / static_cast<double>(count - 1) : 1.0;
  running_mean.mul_(1 - momentum_).add_(mean.to(running_mean.dtype()), momentum_);
  running_var.mul_(1 - momentum_).add_(biased_variance.to(running_var.dtype()), momentum_ * unbiased);
}

torch::Tensor BatchNormImpl::cross_process_forward(const torch::Tensor& x) {
  // Per-channel sums over batch and length on this process, summed over all
  // processes in double precision (E[x^2] - E[x]^2 loses digits in float).
  const std::vector<std::int64_t> batch_and_length{0, 2};
  const auto local = torch::cat({x.sum(batch_and_length, false, torch::kFloat64),
                                 x.pow(2).sum(batch_and_length, false, torch::kFloat64),
                                 torch::full({1}, static_cast<double>(x.size(0) * x.size(2)), torch::kFloat64)});
  const auto total = cross_process_sum_(local);
  const std::int64_t c = x.size(1);
  const auto count = total[2 * c];
  const auto mean = total.slice(0, 0, c) / count;
  const auto var = total.slice(0, c, 2 * c) / count - mean * mean;
  {
    torch::NoGradGuard no_grad;
    const auto unbiased = var * count / (count - 1);
    running_mean.mul_(1 - momentum_).add_(mean.to(running_mean.dtype()) * momentum_);
    running_var.mul_(1 - momentum_).add_(unbiased.to(running_var.dtype()) * momentum_);
  }
  const auto scale = (weight.to(torch::kFloat64) / torch::sqrt(var + eps_)).view({1, c, 1});
  const auto shift = (bias.to(torch::kFloat64).view({1, c, 1}) - mean.view({1, c, 1}) * scale);
  return x * scale.to(x.dtype()) + shift.to(x.dtype());
}

}  // namespace molearn
