// Coordinates between molearn (float Å, x0 y0 z0 x1 ...) and OpenMM (Vec3 in
// nm), for the code that drives OpenMM Contexts.
#pragma once

#include <OpenMM.h>

#include <span>
#include <vector>

namespace molearn {

// Throws InputError naming the atom (1-based) when a coordinate is not finite.
std::vector<OpenMM::Vec3> openmm_positions(std::span<const float> xyz_angstrom);

std::vector<float> angstrom_coordinates(const std::vector<OpenMM::Vec3>& positions_nm);

}  // namespace molearn
