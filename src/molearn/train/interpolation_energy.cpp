#include "molearn/train/interpolation_energy.hpp"

#include "molearn/core/error.hpp"
#include "molearn/physics/energy_loss_torch.hpp"
#include "molearn/physics/torch_forcefield.hpp"

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

}  // namespace molearn
