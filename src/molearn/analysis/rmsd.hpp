// Root-mean-square deviation between conformations of one topology.
//
// The superposed RMSD uses the quaternion characteristic polynomial (QCP)
// method of Theobald (Acta Cryst. A 61, 478, 2005): the minimal RMSD over all
// proper rotations is sqrt((G_a + G_b - 2 lambda_max) / N), where G are the
// inner products of the centred structures and lambda_max the largest
// eigenvalue of Horn's 4x4 key matrix, found by Newton's method on its
// characteristic polynomial from lambda_0 = (G_a + G_b) / 2 (an upper bound,
// so the iteration converges monotonically to the largest root). No rotation
// matrix is formed: the RMSD alone needs none. Accuracy: about 1e-12 Å on
// proteins; where the largest eigenvalue is a double root (collinear or
// otherwise degenerate structures) Newton's method stops within about
// sqrt(machine epsilon) of it, ~1e-8 relative.
#pragma once

#include <span>

#include "molearn/analysis/conformers.hpp"
#include "molearn/analysis/metric_table.hpp"

namespace molearn {

// RMSD in Å between `a` and `b` (x0 y0 z0 x1 ... in Å, same atom count) after
// optimal superposition: both centred on their centroids (unweighted), then
// the best proper rotation. NaN when any coordinate is non-finite or there
// are no atoms; 0 for a single atom. Throws InputError on different sizes.
double qcp_rmsd(std::span<const float> a, std::span<const float> b);

// RMSD in Å without fitting nor centring: sqrt(mean |a_i - b_i|^2).
double unfitted_rmsd(std::span<const float> a, std::span<const float> b);

// Per frame of `c`: "rmsd" (qcp_rmsd to the reference) and "rmsd_unfitted".
// `reference_xyz` holds one conformation of c.topology's atoms (InputError
// otherwise). Frames are split over `threads` threads (0: every core).
MetricTable rmsd_metrics(const Conformers& c, std::span<const float> reference_xyz, int threads);

}  // namespace molearn
