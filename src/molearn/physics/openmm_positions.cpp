#include "molearn/physics/openmm_positions.hpp"

#include <cmath>
#include <string>

#include "molearn/core/error.hpp"

namespace molearn {

namespace {
constexpr double kNanometresPerAngstrom = 0.1;
}

std::vector<OpenMM::Vec3> openmm_positions(std::span<const float> xyz_angstrom) {
  std::vector<OpenMM::Vec3> positions(xyz_angstrom.size() / 3);
  for (std::size_t i = 0; i < positions.size(); ++i) {
    for (int k = 0; k < 3; ++k)
      if (!std::isfinite(xyz_angstrom[3 * i + k]))
        throw InputError("atom " + std::to_string(i + 1) + " has a non-finite coordinate");
    positions[i] =
        OpenMM::Vec3(xyz_angstrom[3 * i], xyz_angstrom[3 * i + 1], xyz_angstrom[3 * i + 2]) * kNanometresPerAngstrom;
  }
  return positions;
}

std::vector<float> angstrom_coordinates(const std::vector<OpenMM::Vec3>& positions_nm) {
  std::vector<float> xyz;
  xyz.reserve(3 * positions_nm.size());
  for (const OpenMM::Vec3& p : positions_nm)
    for (int k = 0; k < 3; ++k) xyz.push_back(static_cast<float>(p[k] / kNanometresPerAngstrom));
  return xyz;
}

}  // namespace molearn
