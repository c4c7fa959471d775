#include "molearn/models/model_config.hpp"

#include "molearn/core/error.hpp"

namespace molearn {

nlohmann::json ModelConfig::to_json() const {
  return {{"architecture", architecture},
          {"atoms", atoms},
          {"latent_dim", latent_dim},
          {"knn", knn},
          {"depth", depth},
          {"init_channels", init_channels},
          {"channel_growth", channel_growth},
          {"residual_blocks", residual_blocks},
          {"dropout", dropout},
          {"atom_names", atom_names},
          {"siren_hidden", siren_hidden},
          {"siren_w0", siren_w0},
          {"mds_iterations", mds_iterations}};
}

ModelConfig ModelConfig::from_json(const nlohmann::json& j) {
  ModelConfig c;
  try {
    c.architecture = j.at("architecture").get<std::string>();
    c.atoms = j.at("atoms").get<std::int64_t>();
    c.latent_dim = j.at("latent_dim").get<std::int64_t>();
    c.knn = j.value("knn", c.knn);
    c.depth = j.value("depth", c.depth);
    c.init_channels = j.value("init_channels", c.init_channels);
    c.channel_growth = j.value("channel_growth", c.channel_growth);
    c.residual_blocks = j.value("residual_blocks", c.residual_blocks);
    c.dropout = j.value("dropout", c.dropout);
    c.atom_names = j.value("atom_names", c.atom_names);
    c.siren_hidden = j.value("siren_hidden", c.siren_hidden);
    c.siren_w0 = j.value("siren_w0", c.siren_w0);
    c.mds_iterations = j.value("mds_iterations", c.mds_iterations);
  } catch (const std::exception& e) {
    throw InputError(std::string("invalid model configuration: ") + e.what());
  }
  if (c.atoms < 1 || c.latent_dim < 1)
    throw InputError("invalid model configuration: atoms and latent_dim must be >= 1");
  if (!c.atom_names.empty() && static_cast<std::int64_t>(c.atom_names.size()) != c.atoms)
    throw InputError("invalid model configuration: " + std::to_string(c.atom_names.size()) + " atom names for " +
                     std::to_string(c.atoms) + " atoms");
  return c;
}

}  // namespace molearn
