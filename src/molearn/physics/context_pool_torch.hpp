// A pool of OpenMM Contexts that evaluates a batch of conformations in
// parallel, one structure per Context at a time.
//
// OpenMM parallelises inside one evaluation, which pays off for large
// systems; molearn's reduced structures (a few thousand atoms) are cheap to
// evaluate but come in batches, so the pool parallelises over structures
// instead: every worker owns its own copy of the System and a Context with a
// single CPU thread. A Context is not thread-safe, separate Contexts are.
//
// The file is named *_torch only so that it is built into molearn_torch
// (next to its user, PhysicsEnergy); it does not include torch headers.
#pragma once

#include <cstddef>
#include <memory>
#include <span>
#include <string>
#include <vector>

namespace OpenMM {
class System;
}

namespace molearn {

class ContextPool {
 public:
  // Copies `system` once per worker (XmlSerializer clone). `platform`: "auto", "CPU"
  // (each Context gets one thread) or "Reference". Throws InputError for an
  // unavailable platform, an empty system or workers < 1.
  ContextPool(const OpenMM::System& system, const std::string& platform = "auto", int workers = 1);
  ~ContextPool();
  ContextPool(const ContextPool&) = delete;
  ContextPool& operator=(const ContextPool&) = delete;

  int workers() const { return static_cast<int>(workers_.size()); }
  std::size_t atom_count() const { return atoms_; }
  const std::string& platform() const { return platform_; }

  // Energies (kJ/mol) and, when `forces` is not empty, forces (kJ/mol/nm) of
  // energies.size() structures. `xyz_nm` holds them one after another, x y z
  // per atom in nm; `forces` has the same layout. Structures are handed to the
  // workers as they become free. A structure with a non-finite coordinate is
  // not given to OpenMM: its energy is NaN and its forces 0. Non-finite
  // results of OpenMM (coincident atoms) are passed on as they are.
  // Throws InputError on inconsistent sizes, Error when OpenMM fails.
  void evaluate(std::span<const double> xyz_nm, std::span<double> energies, std::span<double> forces = {});

 private:
  struct Worker;
  void evaluate_one(Worker& worker, const double* xyz, double* energy, double* forces);

  std::vector<std::unique_ptr<Worker>> workers_;
  std::size_t atoms_ = 0;
  std::string platform_;
};

}  // namespace molearn
