// Force-field energies of many conformers, as a metric. Scoring many
// structures one OpenMM evaluation at a time is slow (a Context round trip per
// structure), so by default the batched libtorch force field scores them;
// OpenMM remains for what the torch force field does not model (implicit
// solvent, cutoffs). The header needs no torch.
#pragma once

#include <cstddef>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "molearn/analysis/conformers.hpp"
#include "molearn/analysis/metric_table.hpp"
#include "molearn/physics/forcefield.hpp"
#include "molearn/physics/forcefield_reader.hpp"
#include "molearn/physics/system_builder.hpp"
#include "molearn/physics/template_matching.hpp"

namespace molearn {

enum class EnergyEngine {
  Auto,    // torch where it models the system (no implicit solvent, no cutoff), else OpenMM
  Torch,   // TorchForceField, batched (float32; Coulomb + Lennard-Jones in double)
  OpenMM,  // one OpenMM Context per thread (EnergyEvaluator)
};

EnergyEngine parse_energy_engine(const std::string& name);  // auto, torch, openmm; InputError otherwise
const char* energy_engine_name(EnergyEngine engine);

struct EnergyMetricOptions {
  std::vector<std::string> forcefield = kDefaultForceField;
  // Atoms of the system (a selection as `molearn prepare --atoms` takes it);
  // empty: for a structure without hydrogens, templates reduced to the atom
  // names it has (what generated conformers hold); else every atom.
  std::string atoms;
  // none, soft or full; empty: soft for structures without hydrogens (the
  // templates are then reduced to the atoms present, as for molearn's
  // datasets), full otherwise.
  std::string nonbonded;
  bool implicit_obc2 = false;
  double cutoff_nm = 0;
  EnergyEngine engine = EnergyEngine::Auto;
  std::string platform = "auto";  // OpenMM platform
  int threads = 0;
};

// The force field, system and evaluation engine for conformers of one
// topology, built once and used on any number of frames.
class ConformerEnergy {
 public:
  // Matches the conformers' topology to the force field: templates reduced
  // to the atom names present when there are no hydrogens; chain ends from
  // `conformers.termini`. Throws InputError naming the residue that matches
  // no template.
  ConformerEnergy(const Conformers& conformers, const EnergyMetricOptions& options);
  ~ConformerEnergy();
  ConformerEnergy(const ConformerEnergy&) = delete;
  ConformerEnergy& operator=(const ConformerEnergy&) = delete;

  // Columns: energy, then energy_GROUP for each force group of the system
  // (energy_bond, energy_angle, energy_torsion, energy_nonbonded, energy_gb
  // with implicit solvent), kJ/mol. Frames
  // hold every atom of the conformers' topology (Å); a frame with a
  // non-finite coordinate, or whose energy is not finite, gives NaN.
  // `forces`, when given, receives kJ/mol/nm per system atom, frame after
  // frame (NaN for NaN frames).
  MetricTable evaluate(std::span<const float> frames_xyz, std::size_t frames, std::vector<double>* forces = nullptr);

  EnergyEngine engine() const { return engine_; }
  const MatchedTopology& matched() const { return matched_; }
  const SystemOptions& system_options() const { return system_options_; }
  const ForceField& forcefield() const { return ff_; }
  std::string platform() const;  // OpenMM's platform, or the torch precision
  // Force groups of the system, by name ("bond", "angle", ...), in group order.
  const std::vector<std::string>& groups() const { return groups_; }

 private:
  struct Engines;
  ForceField ff_;
  MatchedTopology matched_;
  SystemOptions system_options_;
  EnergyEngine engine_ = EnergyEngine::Torch;
  std::vector<std::size_t> source_atoms_;
  std::vector<std::string> groups_;
  std::unique_ptr<Engines> engines_;
  int threads_ = 1;
};

// Every frame of `conformers`, in chunks.
MetricTable energy_metrics(const Conformers& conformers, const EnergyMetricOptions& options);

}  // namespace molearn
