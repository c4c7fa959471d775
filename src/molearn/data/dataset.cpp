#include "molearn/data/dataset.hpp"

namespace molearn {

std::vector<float> Dataset::frame_in_angstrom(std::size_t i) const {
  const auto scaled = frame(i);
  std::vector<float> xyz(scaled.size());
  for (std::size_t k = 0; k < scaled.size(); ++k) xyz[k] = static_cast<float>(scaled[k] * std + mean);
  return xyz;
}

}  // namespace molearn
