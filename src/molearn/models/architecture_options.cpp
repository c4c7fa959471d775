#include "molearn/models/architecture_options.hpp"

#include <algorithm>

namespace molearn {

bool ArchitectureOption::shapes(const std::string& architecture) const {
  return std::find(architectures.begin(), architectures.end(), architecture) != architectures.end();
}

const std::vector<ArchitectureOption>& architecture_options() {
  static const std::vector<ArchitectureOption> table{
      {"knn",
       "--knn",
       {"foldingnet", "small-foldingnet"},
       &ModelConfig::knn,
       1,
       1024,
       "neighbours of each atom in the encoder's graph layers"},
      {"init_channels",
       "--channels",
       {"conv1d", "cnn2d-dm"},
       &ModelConfig::init_channels,
       1,
       256,
       "channels of the first convolution (x1.5 per level below it)"},
      // conv1d's deepest level has channels x 1.5^(depth - 1) channels: 8 levels of 256 are already ~4,400.
      {"depth", "--depth", {"conv1d"}, &ModelConfig::depth, 1, 8, "levels of the encoder (each halves the chain)"},
      {"channel_growth", "", {"conv1d", "cnn2d-dm"}, &ModelConfig::channel_growth, 0, 0, ""},
      {"residual_blocks", "", {"conv1d"}, &ModelConfig::residual_blocks, 0, 0, ""},
      {"dropout", "", {"conv1d"}, &ModelConfig::dropout, 0, 0, ""},
      {"siren_hidden",
       "--siren-width",
       {"siren"},
       &ModelConfig::siren_hidden,
       1,
       8192,
       "width of the three hidden sine layers"},
      {"siren_w0",
       "--siren-w0",
       {"siren"},
       &ModelConfig::siren_w0,
       1e-3,
       1e3,
       "frequency of the sine activations (SIREN's omega_0)"},
      {"mds_iterations",
       "--mds-iterations",
       {"cnn2d-dm"},
       &ModelConfig::mds_iterations,
       1,
       1000,
       "SMACOF steps from the decoded distances to coordinates (more: closer to the distances, more memory)"}};
  return table;
}

}  // namespace molearn
