#include "molearn/physics/context_pool_torch.hpp"

#include <OpenMM.h>
#include <openmm/serialization/XmlSerializer.h>

#include <algorithm>
#include <cmath>
#include <exception>
#include <limits>
#include <map>

#include "molearn/core/error.hpp"
#include "molearn/core/parallel_for.hpp"
#include "molearn/physics/openmm_platform.hpp"

namespace molearn {

struct ContextPool::Worker {
  std::unique_ptr<OpenMM::System> system;
  std::unique_ptr<OpenMM::VerletIntegrator> integrator;
  std::unique_ptr<OpenMM::Context> context;
  std::vector<OpenMM::Vec3> positions;
};

ContextPool::ContextPool(const OpenMM::System& system, const std::string& platform, int workers)
    : atoms_(static_cast<std::size_t>(system.getNumParticles())), platform_(resolve_platform_name(platform, system)) {
  if (atoms_ == 0) throw InputError("context pool: the system has no atoms");
  if (workers < 1) throw InputError("context pool: at least one worker is needed");
  OpenMM::Platform& p = openmm_platform(platform_);
  // One thread per Context: the pool parallelises over structures, and
  // OpenMM's own threads would compete with the other workers for the cores.
  const std::map<std::string, std::string> properties =
      platform_ == "CPU" ? std::map<std::string, std::string>{{"Threads", "1"}} : std::map<std::string, std::string>{};
  for (int w = 0; w < workers; ++w) {
    auto worker = std::make_unique<Worker>();
    // Each Context gets a System of its own: a Context keeps a reference to
    // its System, and nothing in OpenMM promises that sharing one is safe.
    worker->system.reset(OpenMM::XmlSerializer::clone<OpenMM::System>(system));
    // Never stepped; a Context needs an integrator.
    worker->integrator = std::make_unique<OpenMM::VerletIntegrator>(0.001);
    worker->context = std::make_unique<OpenMM::Context>(*worker->system, *worker->integrator, p, properties);
    worker->positions.resize(atoms_);
    workers_.push_back(std::move(worker));
  }
}

ContextPool::~ContextPool() = default;

void ContextPool::evaluate_one(Worker& worker, const double* xyz, double* energy, double* forces) {
  bool finite = true;
  for (std::size_t i = 0; i < atoms_; ++i) {
    worker.positions[i] = OpenMM::Vec3(xyz[3 * i], xyz[3 * i + 1], xyz[3 * i + 2]);
    finite = finite && std::isfinite(xyz[3 * i]) && std::isfinite(xyz[3 * i + 1]) && std::isfinite(xyz[3 * i + 2]);
  }
  if (!finite) {
    // OpenMM's behaviour with NaN positions is undefined (the CPU platform's
    // neighbour grids index by coordinate); the structure has no energy.
    *energy = std::numeric_limits<double>::quiet_NaN();
    if (forces) std::fill(forces, forces + 3 * atoms_, 0.0);
    return;
  }
  worker.context->setPositions(worker.positions);
  const int types = OpenMM::State::Energy | (forces ? OpenMM::State::Forces : 0);
  // All force groups in one call: each is computed once.
  const OpenMM::State state = worker.context->getState(types);
  *energy = state.getPotentialEnergy();
  if (forces) {
    const std::vector<OpenMM::Vec3>& f = state.getForces();
    for (std::size_t i = 0; i < atoms_; ++i)
      for (int k = 0; k < 3; ++k) forces[3 * i + k] = f[i][k];
  }
}

void ContextPool::evaluate(std::span<const double> xyz_nm, std::span<double> energies, std::span<double> forces) {
  const std::size_t count = energies.size();
  const std::size_t stride = 3 * atoms_;
  if (xyz_nm.size() != count * stride)
    throw InputError("context pool: " + std::to_string(xyz_nm.size()) + " coordinates given for " +
                     std::to_string(count) + " structures of " + std::to_string(atoms_) + " atoms");
  if (!forces.empty() && forces.size() != count * stride)
    throw InputError("context pool: the force buffer does not match the coordinates");
  const bool with_forces = !forces.empty();

  // Workers (one OpenMM context each) take the next structure when they are
  // free, so a slow structure does not hold up a fixed share of the batch.
  try {
    parallel_tasks(count, static_cast<int>(workers_.size()), [&](std::size_t s, std::size_t w) {
      evaluate_one(*workers_[w], xyz_nm.data() + s * stride, energies.data() + s,
                   with_forces ? forces.data() + s * stride : nullptr);
    });
  } catch (const Error&) {
    throw;
  } catch (const std::exception& ex) {
    throw Error(std::string("OpenMM energy evaluation failed: ") + ex.what());
  }
}

}  // namespace molearn
