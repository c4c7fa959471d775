// Rigid-body geometry on flat xyz arrays (x0 y0 z0 x1 ...): centring, optimal
// superposition and RMSD. No torch: these run on raw frames.
#pragma once

#include <array>
#include <span>

namespace molearn {

using Vec3 = std::array<double, 3>;

Vec3 centroid(std::span<const float> xyz);

// Subtracts the centroid from every atom.
void centre(std::span<float> xyz);

// Root-mean-square deviation without fitting.
double rmsd(std::span<const float> a, std::span<const float> b);

// Rotates and translates `mobile` onto `reference` so that their RMSD is
// minimal (Kabsch algorithm, proper rotation only) and returns that RMSD.
// Both hold the same number of atoms.
double superpose(std::span<float> mobile, std::span<const float> reference);

}  // namespace molearn
