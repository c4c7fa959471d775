#include "molearn/physics/energy_loss_torch.hpp"

#include <OpenMM.h>

#include "molearn/core/error.hpp"
#include "molearn/physics/structure_matching.hpp"

namespace molearn {

std::unique_ptr<OpenMM::System> dataset_system(const Dataset& dataset, NonbondedModel nonbonded,
                                               const std::vector<std::string>& forcefield) {
  const ForceField ff = read_forcefield(forcefield);
  const MatchedTopology matched = match_dataset(ff, dataset);
  SystemOptions options;
  options.nonbonded = nonbonded;
  return build_system(ff, matched, options);
}

PhysicsEnergy::PhysicsEnergy(const Dataset& dataset, PhysicsEnergyOptions options)
    : PhysicsEnergy(*dataset_system(dataset, options.nonbonded, options.forcefield),
                    CoordinateScale{dataset.mean, dataset.std}, options) {}

PhysicsEnergy::PhysicsEnergy(const OpenMM::System& system, CoordinateScale scale, PhysicsEnergyOptions options)
    : options_(std::move(options)), scale_(scale) {
  if (!(scale_.std > 0) || !std::isfinite(scale_.std) || !std::isfinite(scale_.mean))
    throw InputError("physics energy: the dataset's std must be positive and its mean finite");
  if (options_.threads < 0) throw InputError("physics energy: the number of threads must be >= 0 (0: torch's)");
  const int workers = options_.threads > 0 ? options_.threads : std::max(1, torch::get_num_threads());
  pool_ = std::make_unique<ContextPool>(system, options_.platform, workers);
}

PhysicsEnergy::~PhysicsEnergy() = default;

std::pair<torch::Tensor, torch::Tensor> PhysicsEnergy::energies_and_forces(const torch::Tensor& xyz_nm) {
  const auto n = static_cast<std::int64_t>(atom_count());
  if (xyz_nm.dim() != 3 || xyz_nm.size(1) != n || xyz_nm.size(2) != 3)
    throw InputError("physics energy: expected coordinates [batch, " + std::to_string(n) + ", 3]");
  const torch::Tensor x = xyz_nm.detach().to(torch::kCPU, torch::kDouble).contiguous();
  const std::int64_t batch = x.size(0);
  torch::Tensor energies = torch::empty({batch}, torch::kDouble);
  torch::Tensor forces = torch::empty({batch, n, 3}, torch::kDouble);
  const auto values = static_cast<std::size_t>(batch * n * 3);
  pool_->evaluate({x.data_ptr<double>(), values}, {energies.data_ptr<double>(), static_cast<std::size_t>(batch)},
                  {forces.data_ptr<double>(), values});
  return {energies, forces};
}

torch::Tensor PhysicsEnergy::energy(const torch::Tensor& decoded) {
  const torch::Tensor xyz = decoded_to_nm(decoded, scale_, torch::kDouble);
  if (xyz.size(1) != static_cast<std::int64_t>(atom_count()))
    throw InputError("physics energy: structures of " + std::to_string(xyz.size(1)) + " atoms given, the system has " +
                     std::to_string(atom_count()));
  auto [energies, forces] = energies_and_forces(xyz);
  auto [guarded, guarded_forces] = guard_energies(energies, forces, options_.guard);
  return energy_with_forces(decoded, guarded, guarded_forces, scale_.nm_per_unit());
}

}  // namespace molearn
