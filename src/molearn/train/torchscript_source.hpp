// TorchScript source of each architecture's encode/decode, written for the
// exported module (see export.hpp). Kept next to the C++ models: an oracle
// test checks the exported module against the C++ model to 1e-5.
#pragma once

#include <string>

#include "molearn/models/model_config.hpp"

namespace molearn {

// Methods `encode(self, x)` and `decode(self, z)` referring to parameters as
// self.<name with "." replaced by "__">. Throws InputError for an unknown
// architecture.
std::string torchscript_source(const ModelConfig& config);

}  // namespace molearn
