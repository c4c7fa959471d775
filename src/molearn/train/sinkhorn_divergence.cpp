#include "molearn/train/sinkhorn_divergence.hpp"

#include <algorithm>
#include <cmath>
#include <string>

#include "molearn/core/error.hpp"

namespace molearn {

namespace {

// |x_i - y_j|^2 / 2 [N, M]. In float64: rows of flattened proteins have
// thousands of coordinates, and the expanded form loses digits in float32.
torch::Tensor half_squared_distances(const torch::Tensor& x, const torch::Tensor& y) {
  const auto xx = x.pow(2).sum(1, true);
  const auto yy = y.pow(2).sum(1, true).t();
  return (xx + yy - 2 * x.mm(y.t())).clamp_min(0) / 2;
}

// The soft minimum over j of C_ij - eps * h_j: -eps log sum_j exp(h_j - C_ij / eps).
// h holds the log-weights plus the other side's potential / eps.
torch::Tensor softmin(double eps, const torch::Tensor& cost, const torch::Tensor& h) {
  return -eps * torch::logsumexp(h.unsqueeze(0) - cost / eps, 1);
}

// The four dual potentials of the debiased divergence: f_ba and g_ab of
// OT(x, y), f_aa of OT(x, x), g_bb of OT(y, y).
struct Potentials {
  torch::Tensor f_ba, g_ab, f_aa, g_bb;
};

struct Costs {
  torch::Tensor xy, yx, xx, yy;
};

// One Sinkhorn update at temperature eps. `c.yx` is c.xy transposed, or the
// same costs with the gradient on y's side (below). The pair of OT(x, y) is
// updated one after the other (g from the new f), which converges; the
// symmetric potentials of OT(x, x) and OT(y, y) are averaged with their
// update, which damps the oscillation a symmetric update has (Feydy et al.,
// Algorithm 1).
Potentials update(const Potentials& p, const Costs& c, const torch::Tensor& log_a, const torch::Tensor& log_b,
                  double eps) {
  auto f_ba = softmin(eps, c.xy, log_b + p.g_ab / eps);
  auto g_ab = softmin(eps, c.yx, log_a + f_ba / eps);
  return {std::move(f_ba), std::move(g_ab), (p.f_aa + softmin(eps, c.xx, log_a + p.f_aa / eps)) / 2,
          (p.g_bb + softmin(eps, c.yy, log_b + p.g_bb / eps)) / 2};
}

double largest_change(const Potentials& p, const Potentials& q) {
  double change = 0;
  for (const auto& [a, b] : {std::pair{&p.f_ba, &q.f_ba}, {&p.g_ab, &q.g_ab}, {&p.f_aa, &q.f_aa}, {&p.g_bb, &q.g_bb}})
    change = std::max(change, (*a - *b).abs().max().item<double>());
  return change;
}

// At each temperature the updates repeat until no potential moves by more
// than this fraction of the temperature (the plan's marginals are then right
// to about that fraction), at most kIterationsPerTemperature times, and
// kFinalIterations times at the last one. Converging at every temperature
// matters: from unsettled potentials, Sinkhorn at a small blur can take
// thousands of iterations (geomloss's one update per temperature leaves
// them unsettled). Near-ties between two matchings of a batch can still
// need more than the cap: the report says so. A batch holds tens of points,
// so an iteration costs microseconds.
constexpr double kTolerance = 1e-5;
constexpr int kIterationsPerTemperature = 50;
constexpr int kFinalIterations = 1000;

void check(const torch::Tensor& x, const torch::Tensor& y, const SinkhornOptions& o) {
  if (x.dim() != 2 || y.dim() != 2 || x.size(0) == 0 || y.size(0) == 0)
    throw InputError("Sinkhorn divergence: two non-empty [points, dimensions] clouds are needed");
  if (x.size(1) != y.size(1))
    throw InputError("Sinkhorn divergence: the clouds' points have " + std::to_string(x.size(1)) + " and " +
                     std::to_string(y.size(1)) + " dimensions");
  o.check();
}

}  // namespace

torch::Tensor sinkhorn_divergence(const torch::Tensor& x, const torch::Tensor& y, const SinkhornOptions& options,
                                  SinkhornReport* report) {
  check(x, y, options);
  // An infinite cost would make the starting temperature infinite and the
  // annealing endless.
  if (!torch::isfinite(x).all().item<bool>() || !torch::isfinite(y).all().item<bool>())
    return torch::full({}, std::nan(""), x.options().requires_grad(false));
  const auto x64 = x.to(torch::kFloat64), y64 = y.to(torch::kFloat64);
  const auto f64 = x64.options().requires_grad(false);
  const auto log_a = torch::full({x.size(0)}, -std::log(static_cast<double>(x.size(0))), f64);
  const auto log_b = torch::full({y.size(0)}, -std::log(static_cast<double>(y.size(0))), f64);
  const double final_eps = options.blur * options.blur;

  // The iterations find the potentials without gradient; the last update
  // below, with gradient, gives the divergence's gradient at the optimum
  // (the envelope theorem), as geomloss does.
  Potentials p;
  {
    const torch::NoGradGuard no_grad;
    const auto xy = half_squared_distances(x64, y64);
    const Costs c{xy, xy.t(), half_squared_distances(x64, x64), half_squared_distances(y64, y64)};
    // Start hot, at the squared diameter of the clouds (in cost units).
    const double diameter_cost =
        std::max({c.xy.max().item<double>(), c.xx.max().item<double>(), c.yy.max().item<double>()});
    double eps = std::max(2 * diameter_cost, final_eps);
    p = {softmin(eps, c.xy, log_b), softmin(eps, c.yx, log_a), softmin(eps, c.xx, log_a), softmin(eps, c.yy, log_b)};
    SinkhornReport done;
    for (;;) {
      const bool last = eps <= final_eps;
      done = {};
      while (done.final_iterations < (last ? kFinalIterations : kIterationsPerTemperature) && !done.converged) {
        Potentials next = update(p, c, log_a, log_b, eps);
        done.converged = largest_change(p, next) < kTolerance * eps;
        p = std::move(next);
        ++done.final_iterations;
      }
      if (last) break;
      eps = std::max(eps * options.scaling * options.scaling, final_eps);
    }
    if (report) *report = done;
  }
  // One more update with gradient, each potential from the converged (and
  // constant) others, and each cost with the gradient of its own side only:
  // the derivative of the converged dual with respect to x is the transport
  // plan's pull on x, taken once (geomloss's cost(x, y.detach())).
  const auto xd = x64.detach(), yd = y64.detach();
  const double eps = final_eps;
  const Potentials last{softmin(eps, half_squared_distances(x64, yd), log_b + p.g_ab / eps),
                        softmin(eps, half_squared_distances(y64, xd), log_a + p.f_ba / eps),
                        softmin(eps, half_squared_distances(x64, xd), log_a + p.f_aa / eps),
                        softmin(eps, half_squared_distances(y64, yd), log_b + p.g_bb / eps)};
  const auto divergence = (last.f_ba - last.f_aa).mean() + (last.g_ab - last.g_bb).mean();
  return divergence.to(x.scalar_type());
}

}  // namespace molearn
