#include "molearn/core/error.hpp"
#include "molearn/models/autoencoder.hpp"
#include "molearn/models/conv1d_autoencoder.hpp"
#include "molearn/models/foldingnet.hpp"

namespace molearn {

std::vector<std::string> autoencoder_names() { return {"foldingnet", "conv1d"}; }

Autoencoder make_autoencoder(const ModelConfig& config) {
  if (config.architecture == "foldingnet") return std::make_shared<FoldingNetImpl>(config);
  if (config.architecture == "conv1d") return std::make_shared<Conv1dAutoencoderImpl>(config);
  throw InputError("unknown model '" + config.architecture + "' (available: foldingnet, conv1d)");
}

}  // namespace molearn
