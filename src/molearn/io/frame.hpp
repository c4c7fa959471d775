// One conformation: coordinates of every atom of a topology, in Ångström.
#pragma once

#include <cstddef>
#include <optional>
#include <vector>

namespace molearn {

// Periodic box: edge lengths in Å, angles in degrees.
struct UnitCell {
  double a = 0, b = 0, c = 0;
  double alpha = 90, beta = 90, gamma = 90;
};

// No protein's coordinate is this far (in Å) from the origin: such values
// come from a damaged or misread file, or a latent point far outside a
// model's training region. The readers refuse them (they would swamp a
// dataset's scale, overflow the PDB format's columns or make energies
// infinite), and the DCD writer does not write what the readers refuse.
inline constexpr float kMaxCoordinate = 1e5f;

struct Frame {
  std::vector<float> xyz;  // x0 y0 z0 x1 y1 z1 ... in Å
  std::optional<UnitCell> cell;
  double time_ps = 0;  // simulation time where the format stores it
  long step = 0;       // MD step where the format stores it

  std::size_t atom_count() const { return xyz.size() / 3; }
};

}  // namespace molearn
