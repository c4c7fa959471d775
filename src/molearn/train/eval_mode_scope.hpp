// A module in eval mode for a scope (batch norm with its running statistics,
// which it then leaves alone), back in training mode afterwards, also when an
// exception leaves the scope.
#pragma once

#include <torch/torch.h>

namespace molearn {

class EvalModeScope {
 public:
  explicit EvalModeScope(torch::nn::Module& module) : module_(module), was_training_(module.is_training()) {
    module_.eval();
  }
  ~EvalModeScope() {
    if (was_training_) module_.train();
  }
  EvalModeScope(const EvalModeScope&) = delete;
  EvalModeScope& operator=(const EvalModeScope&) = delete;

 private:
  torch::nn::Module& module_;
  bool was_training_;
};

}  // namespace molearn
