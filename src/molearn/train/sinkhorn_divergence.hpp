// The debiased Sinkhorn divergence between two point clouds (Feydy et al.,
// "Interpolating between optimal transport and MMD using Sinkhorn
// divergences", AISTATS 2019), the loss of Python molearn's Sinkhorn trainer,
// which takes it from geomloss's SamplesLoss("sinkhorn", p=2, blur=0.05).
// geomloss is not packaged for Debian and libtorch has no optimal transport,
// so the log-domain iterations are written here.
#pragma once

#include <torch/torch.h>

#include "molearn/train/sinkhorn_options.hpp"

namespace molearn {

// S(x, y) = OT(x, y) - OT(x, x) / 2 - OT(y, y) / 2 for uniform weights on the
// rows of x [N, D] and y [M, D], with cost |x_i - y_j|^2 / 2 and entropic
// regularisation. 0 when the clouds are equal, |t|^2 / 2 when y is x
// translated by t. Differentiable with respect to both (the gradient of the
// converged dual, as geomloss computes it). Computed in float64; returns a
// scalar of x's dtype. Throws InputError for empty clouds, mismatched
// dimensions or options out of range.
// How the iterations went: at the final temperature, how many ran and
// whether the potentials settled (else the value is that of the last one).
struct SinkhornReport {
  int final_iterations = 0;
  bool converged = false;
};

// Clouds with a NaN or infinite coordinate give NaN at once (a diverged
// decoder's output: the caller's non-finite loss check names it).
torch::Tensor sinkhorn_divergence(const torch::Tensor& x, const torch::Tensor& y, const SinkhornOptions& options = {},
                                  SinkhornReport* report = nullptr);

}  // namespace molearn
