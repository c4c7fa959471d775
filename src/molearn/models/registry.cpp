#include <map>
#include <mutex>

#include "molearn/core/error.hpp"
#include "molearn/models/autoencoder.hpp"
#include "molearn/models/conv1d_autoencoder.hpp"
#include "molearn/models/distance_matrix_autoencoder.hpp"
#include "molearn/models/foldingnet.hpp"
#include "molearn/models/siren.hpp"
#include "molearn/models/small_foldingnet.hpp"

namespace molearn {

namespace {

struct Registry {
  std::mutex mutex;
  std::vector<std::pair<std::string, AutoencoderFactory>> factories{
      {"foldingnet", [](const ModelConfig& c) -> Autoencoder { return FoldingNet(c); }},
      {"conv1d", [](const ModelConfig& c) -> Autoencoder { return Conv1dAutoencoder(c); }},
      {"small-foldingnet", [](const ModelConfig& c) -> Autoencoder { return SmallFoldingNet(c); }},
      {"siren", [](const ModelConfig& c) -> Autoencoder { return Siren(c); }},
      {"cnn2d-dm", [](const ModelConfig& c) -> Autoencoder { return DistanceMatrixAutoencoder(c); }},
  };
};

Registry& registry() {
  static Registry r;
  return r;
}

std::string joined_names(const Registry& r) {
  std::string text;
  for (const auto& [name, factory] : r.factories) text += (text.empty() ? "" : ", ") + name;
  return text;
}

}  // namespace

std::vector<std::string> autoencoder_names() {
  Registry& r = registry();
  std::lock_guard lock(r.mutex);
  std::vector<std::string> names;
  for (const auto& [name, factory] : r.factories) names.push_back(name);
  return names;
}

void register_autoencoder(const std::string& name, AutoencoderFactory factory) {
  Registry& r = registry();
  std::lock_guard lock(r.mutex);
  if (name.empty() || !factory) throw InputError("register_autoencoder: a name and a factory are needed");
  for (const auto& entry : r.factories)
    if (entry.first == name) throw InputError("register_autoencoder: '" + name + "' is already registered");
  r.factories.emplace_back(name, std::move(factory));
}

Autoencoder make_autoencoder(const ModelConfig& config) {
  AutoencoderFactory factory;
  {
    Registry& r = registry();
    std::lock_guard lock(r.mutex);
    for (const auto& [name, f] : r.factories)
      if (name == config.architecture) factory = f;
    if (!factory)
      throw InputError("unknown model '" + config.architecture + "' (available: " + joined_names(r) +
                       "; a program that registered its own must load its checkpoints)");
  }
  Autoencoder model = factory(config);
  if (!model) throw InputError("the factory of model '" + config.architecture + "' returned no model");
  return model;
}

}  // namespace molearn
