// The hyper-parameters that shape the built-in architectures: which key of
// ModelConfig::to_json(), which option of `molearn train`, which models.
// One table, read by train's options, --resume's check and `molearn info`,
// so that adding an option is one line. Plain data: no torch.
#pragma once

#include <cstdint>
#include <string>
#include <variant>
#include <vector>

#include "molearn/models/model_config.hpp"

namespace molearn {

struct ArchitectureOption {
  std::string key;                         // in ModelConfig::to_json()
  std::string flag;                        // train's option; empty: none (the default is always used)
  std::vector<std::string> architectures;  // the built-in models it shapes
  std::variant<std::int64_t ModelConfig::*, double ModelConfig::*> field;
  double low = 0, high = 0;  // the range train accepts
  std::string help;          // what it does, without the models' names

  bool shapes(const std::string& architecture) const;
};

// In the order `molearn info` lists them.
const std::vector<ArchitectureOption>& architecture_options();

}  // namespace molearn
