// Command-line options shared by the commands that build force-field systems
// (energy, physics system, relax), and the notes they print.
#pragma once

#include <CLI/CLI.hpp>
#include <string>
#include <vector>

#include "molearn/physics/forcefield.hpp"
#include "molearn/physics/forcefield_reader.hpp"
#include "molearn/physics/structure_matching.hpp"
#include "molearn/physics/system_builder.hpp"
#include "molearn/physics/template_matching.hpp"

namespace molearn::cli {

// Which force field and which non-bonded model.
struct PhysicsArgs {
  std::vector<std::string> forcefield = kDefaultForceField;
  std::string nonbonded;
  std::string implicit;
  double nonbonded_cutoff_nm = 0;
  std::string atoms;             // empty: all atoms the force field matches
  std::string termini = "auto";  // or "geometry", "chains"

  // "auto": from the chain identifiers for structures without hydrogens
  // (generated conformers, whose stretched bonds would read as chain
  // breaks), from the geometry otherwise.
  TerminiSource termini_source(const Topology& topology) const;

  SystemOptions system_options(const char* default_nonbonded) const;
};

void add_physics_options(CLI::App* cmd, PhysicsArgs& args, const char* default_nonbonded);

std::string joined(const std::vector<std::string>& items, const char* separator = ", ");

// match_structure with the input file named in its errors ("path: residue
// XYZ 5 ...").
MatchedTopology match_structure_in(const std::string& path, const ForceField& ff, const Topology& topology,
                                   std::span<const float> xyz, const std::optional<std::string>& atoms,
                                   TerminiSource termini);

// Residues left out, and a warning about Coulomb energies of reduced systems.
void report_notes(const MatchedTopology& matched, const SystemOptions& options);

// "non-bonded soft, no cutoff" and the like.
std::string describe_model(const SystemOptions& options, const ForceField& ff);

}  // namespace molearn::cli
