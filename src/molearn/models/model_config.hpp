// Hyper-parameters of an autoencoder, stored in checkpoints. Plain data: no
// torch, so the CLI can use it without including libtorch.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace molearn {

struct ModelConfig {
  std::string architecture = "foldingnet";  // a name of the registry (models/registry.cpp)
  std::int64_t atoms = 0;                   // points per structure
  std::int64_t latent_dim = 2;

  // foldingnet
  std::int64_t knn = 16;  // neighbours of the encoder's graph layers (capped below the atom count)

  // conv1d (Ramaswamy et al., PRX 2021)
  std::int64_t depth = 4;
  std::int64_t init_channels = 32;
  double channel_growth = 1.5;
  std::int64_t residual_blocks = 0;  // extra residual blocks per level
  double dropout = 0.0;

  // The atoms' names in dataset order (filled in by the trainer), for models
  // that encode atom identity (siren's one-hot atom encoding). Empty: none.
  std::vector<std::string> atom_names;

  // siren (Python molearn's SIREN / gradient origin network)
  std::int64_t siren_hidden = 512;  // width of the three hidden sine layers
  double siren_w0 = 30;             // frequency of the sine activations (SIREN's omega_0)

  // cnn2d-dm (also uses init_channels and channel_growth)
  std::int64_t mds_iterations = 16;  // SMACOF steps from decoded distances to coordinates

  nlohmann::json to_json() const;
  // Throws InputError on missing or invalid fields.
  static ModelConfig from_json(const nlohmann::json& j);
};

}  // namespace molearn
