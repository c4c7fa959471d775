#include "molearn/train/interpolation_energy.hpp"

#include <algorithm>
#include <cmath>
#include <vector>

#include "molearn/core/error.hpp"
#include "molearn/physics/energy_loss_torch.hpp"
#include "molearn/physics/torch_forcefield.hpp"
#include "molearn/train/eval_mode_scope.hpp"

namespace molearn {

torch::Tensor robust_mean_energy(const torch::Tensor& energies) { return nan_mean(energies); }

EnergyFunction make_interpolation_energy(const Dataset& dataset, const PhysicsOptions& options) {
  const NonbondedModel nonbonded = parse_nonbonded_model(options.nonbonded);
  const std::vector<std::string> forcefield = options.forcefield.empty() ? kDefaultForceField : options.forcefield;
  if (options.engine == "openmm") {
    PhysicsEnergyOptions o;
    o.nonbonded = nonbonded;
    o.forcefield = forcefield;
    o.platform = options.platform;
    auto engine = std::make_shared<PhysicsEnergy>(dataset, o);
    return [engine](const torch::Tensor& decoded) { return engine->energy(decoded); };
  }
  if (options.engine == "torch") {
    TorchForceFieldOptions o;
    o.nonbonded = nonbonded;
    o.forcefield = forcefield;
    auto engine = std::make_shared<TorchForceField>(dataset, o);
    return [engine](const torch::Tensor& decoded) { return engine->energy(decoded); };
  }
  throw InputError("unknown physics engine '" + options.engine + "' (available: openmm, torch)");
}

InterpolationPhysics::InterpolationPhysics(EnergyFunction energy, const PhysicsOptions& options)
    : energy_(std::move(energy)), options_(options) {}

void InterpolationPhysics::start_epoch() {
  energy_sum_ = 0;
  energy_batches_ = 0;
}

double InterpolationPhysics::epoch_mean_energy() const {
  return energy_batches_ ? energy_sum_ / static_cast<double>(energy_batches_) : 0.0;
}

torch::Tensor InterpolationPhysics::batch_term(torch::nn::Module& model, const Decoder& decode, const torch::Tensor& z,
                                               const torch::Tensor& mse, int epoch) {
  const std::int64_t pairs = z.size(0) / 2;
  if (pairs == 0) return torch::zeros({}, mse.options());
  const auto alpha = torch::rand({pairs, 1}, z.options());
  const auto first = z.slice(0, 0, 2 * pairs, 2), second = z.slice(0, 1, 2 * pairs, 2);
  const auto interpolated = (1 - alpha) * first + alpha * second;
  torch::Tensor mean_energy;
  if (active(epoch)) {
    mean_energy = robust_mean_energy(energy_(decode(interpolated)));
  } else {
    const torch::NoGradGuard no_grad;
    const EvalModeScope eval_mode(model);
    mean_energy = robust_mean_energy(energy_(decode(interpolated)));
  }
  const double energy = mean_energy.item<double>();
  if (std::isfinite(energy)) {
    energy_sum_ += energy;
    ++energy_batches_;
  }
  if (!active(epoch)) return torch::zeros({}, mse.options());
  last_weight_ =
      options_.weight > 0 ? options_.weight : options_.scale * mse.item<double>() / (std::abs(energy) + 1e-5);
  return mean_energy * last_weight_;
}

double InterpolationPhysics::fixed_points_energy(const Decoder& decode, const torch::Tensor& ends) const {
  if (ends.size(0) < 2) return 0;
  const torch::NoGradGuard no_grad;
  const auto first = ends.slice(0, 0, ends.size(0) - 1), second = ends.slice(0, 1, ends.size(0));
  double sum = 0;
  for (double alpha : {0.25, 0.5, 0.75})
    sum += robust_mean_energy(energy_(decode((1 - alpha) * first + alpha * second))).item<double>();
  return sum / 3;
}

namespace {

// f(first, end) over [0, n) in slices of at most `batch`, concatenated.
torch::Tensor in_batches(std::int64_t n, std::int64_t batch,
                         const std::function<torch::Tensor(std::int64_t, std::int64_t)>& f) {
  std::vector<torch::Tensor> parts;
  for (std::int64_t first = 0; first < n; first += batch) parts.push_back(f(first, std::min(n, first + batch)));
  return torch::cat(parts);
}

}  // namespace

double InterpolationPhysics::validation_energy(const FrameEncoder& encode, const Decoder& decode,
                                               const torch::Tensor& valid_indices, const torch::Tensor& train_indices,
                                               std::int64_t batch) const {
  const torch::NoGradGuard no_grad;
  auto ends = valid_indices;
  if (ends.size(0) < 2)
    ends =
        torch::cat({ends, train_indices.slice(0, 0, std::min<std::int64_t>(3 - ends.size(0), train_indices.size(0)))});
  if (ends.size(0) < 2) return 0;
  const auto z = in_batches(ends.size(0), batch,
                            [&](std::int64_t first, std::int64_t end) { return encode(ends.slice(0, first, end)); });
  return fixed_points_energy(
      [&](const torch::Tensor& points) {
        return in_batches(points.size(0), batch,
                          [&](std::int64_t first, std::int64_t end) { return decode(points.slice(0, first, end)); });
      },
      z);
}

}  // namespace molearn
