// `molearn energy` (force-field energies of structures) and `molearn physics
// system` (an OpenMM System file for a dataset or a structure).
#include <cmath>
#include <cstdio>
#include <iostream>
#include <memory>
#include <optional>

#include <OpenMM.h>

#include "commands.hpp"
#include "molearn/core/error.hpp"
#include "molearn/data/dataset_file.hpp"
#include "molearn/data/npy.hpp"
#include "molearn/data/selection.hpp"
#include "molearn/io/trajectory_reader.hpp"
#include "molearn/physics/energy_evaluator.hpp"
#include "molearn/physics/forcefield_reader.hpp"
#include "molearn/physics/structure_matching.hpp"
#include "molearn/physics/system_builder.hpp"
#include "molearn/physics/system_xml.hpp"
#include "physics_options.hpp"
#include "progress.hpp"

namespace molearn::cli {

namespace {

// ---- molearn energy ----

struct EnergyArgs {
  std::string input;
  std::string topology;
  PhysicsArgs physics;
  std::string platform = "auto";
  bool json = false;
  std::string forces_npy;
};

nlohmann::json number_or_null(double value) { return std::isfinite(value) ? nlohmann::json(value) : nlohmann::json(); }

void run_energy(const EnergyArgs& args) {
  Topology topology = read_topology_for(args.input, args.topology);
  rename_terminal_oxygens(topology);  // as `molearn prepare`, so that --atoms O keeps the C-terminal oxygen
  auto reader = open_trajectory(args.input, &topology);
  Frame frame;
  if (!reader->read(frame)) throw FormatError(args.input + ": contains no frames");

  const ForceField ff = read_forcefield(args.physics.forcefield);
  const SystemOptions options = args.physics.system_options("full");
  const std::optional<std::string> atoms =
      args.physics.atoms.empty() ? std::nullopt : std::optional<std::string>(args.physics.atoms);
  const MatchedTopology matched = match_structure(ff, topology, frame.xyz, atoms, args.physics.termini_source());
  report_notes(matched, options);
  EnergyEvaluator evaluator(build_system(ff, matched, options), args.platform);
  const std::vector<std::size_t> sources = matched.source_atoms();
  if (!args.json)
    std::printf("%s: %zu atoms%s; %s; %s; %s platform (energies in kJ/mol)\n", args.input.c_str(), matched.size(),
                matched.reduced ? " (reduced templates)" : "", joined(ff.files).c_str(),
                describe_model(options, ff).c_str(), evaluator.platform().c_str());

  std::vector<float> forces;
  std::vector<float> xyz(3 * sources.size());
  std::size_t frames = 0;
  do {
    for (std::size_t i = 0; i < sources.size(); ++i)
      for (int k = 0; k < 3; ++k) xyz[3 * i + k] = frame.xyz[3 * sources[i] + k];
    const EnergyResult e = evaluator.evaluate(xyz, !args.forces_npy.empty());
    if (!args.forces_npy.empty()) forces.insert(forces.end(), e.forces.begin(), e.forces.end());
    if (args.json) {
      nlohmann::json line = {{"frame", frames}, {"total", number_or_null(e.total)}};
      for (const GroupEnergy& g : e.groups) line[g.name] = number_or_null(g.energy);
      line["finite"] = e.finite();
      std::cout << line.dump() << '\n';
    } else {
      std::printf("frame %zu: total %.4f", frames, e.total);
      for (const GroupEnergy& g : e.groups) std::printf("  %s %.4f", g.name.c_str(), g.energy);
      std::printf("%s\n", e.finite() ? "" : "  (not finite: overlapping atoms?)");
    }
    ++frames;
  } while (reader->read(frame));
  std::cout.flush();
  if (!args.forces_npy.empty()) write_npy(args.forces_npy, forces.data(), {frames, sources.size(), 3});
}

// ---- molearn physics system ----

struct SystemArgs {
  std::string input;
  std::string topology;
  std::string output;
  PhysicsArgs physics;
};

bool is_dataset(const std::string& path) { return path.size() > 5 && path.ends_with(".mlds"); }

void run_physics_system(const SystemArgs& args) {
  const ForceField ff = read_forcefield(args.physics.forcefield);
  MatchedTopology matched;
  SystemOptions options;
  if (is_dataset(args.input)) {
    if (!args.physics.atoms.empty())
      throw InputError("--atoms applies to structure files; a dataset's atoms are those it was prepared with");
    options = args.physics.system_options("soft");
    matched = match_dataset(ff, read_dataset(args.input));
  } else {
    options = args.physics.system_options("full");
    Topology topology = read_topology_for(args.input, args.topology);
    rename_terminal_oxygens(topology);
    Frame frame;
    if (!open_trajectory(args.input, &topology)->read(frame)) throw FormatError(args.input + ": contains no frames");
    const std::optional<std::string> atoms =
        args.physics.atoms.empty() ? std::nullopt : std::optional<std::string>(args.physics.atoms);
    matched = match_structure(ff, topology, frame.xyz, atoms, args.physics.termini_source());
  }
  report_notes(matched, options);
  const std::unique_ptr<OpenMM::System> system = build_system(ff, matched, options);
  write_system_xml(*system, args.output);
  std::printf("wrote %s: %d particles%s; %s; %s\n", args.output.c_str(), system->getNumParticles(),
              matched.reduced ? " (templates reduced to the selected atoms)" : "", joined(ff.files).c_str(),
              describe_model(options, ff).c_str());
  std::printf("force groups: 0 bonds, 1 angles, 2 torsions, 3 non-bonded, 4 implicit solvent\n");
}

}  // namespace

void add_energy_command(CLI::App& app) {
  auto args = std::make_shared<EnergyArgs>();
  CLI::App* cmd =
      app.add_subcommand("energy",
                         "Force-field potential energy of every frame of a structure or trajectory, split by term "
                         "(bond, angle, torsion, nonbonded, gb), in kJ/mol, computed by OpenMM.");
  cmd->add_option("input", args->input, "Structure or trajectory (PDB, mmCIF, DCD, XTC); coordinates in A")->required();
  cmd->add_option("--top,-t", args->topology, "Topology (PDB or mmCIF); required for DCD and XTC");
  add_physics_options(cmd, args->physics, "full");
  cmd->add_option("--atoms", args->physics.atoms,
                  "Energy of a reduced system: atom names (e.g. N,CA,CB,C,O, as Python molearn's physics loss) or "
                  "backbone, heavy, protein, all; templates keep only these atoms. Default: every atom of every "
                  "residue the force field has a template for");
  cmd->add_option("--platform", args->platform,
                  "OpenMM platform: auto (the faster for the model, see docs/physics.md), CPU or Reference")
      ->capture_default_str()
      ->check(CLI::IsMember({"auto", "CPU", "Reference"}));
  cmd->add_flag("--json", args->json, "One JSON object per frame (non-finite energies are null)");
  cmd->add_option("--forces", args->forces_npy,
                  "Also write the forces as a NumPy array [frames, atoms, 3] in kJ/mol/nm (atoms of the system, "
                  "in file order)");
  cmd->footer(
      "Examples:\n"
      "  molearn energy protein_with_hydrogens.pdb\n"
      "  molearn energy protein_with_hydrogens.pdb --implicit obc2 --json\n"
      "  molearn energy MurD_test.dcd --top MurD_test_topo.pdb --atoms N,CA,CB,C,O --nonbonded soft\n"
      "  molearn energy model.pdb --forcefield amber99sbildn.xml --platform Reference --forces forces.npy");
  cmd->callback([args] { run_energy(*args); });
}

void add_physics_command(CLI::App& app) {
  CLI::App* physics = app.add_subcommand("physics", "Force-field systems for OpenMM.");
  physics->require_subcommand(1);
  physics->footer(
      "Examples:\n"
      "  molearn physics system murd.mlds -o murd_system.xml\n"
      "Run 'molearn physics system --help' for its options.");

  auto args = std::make_shared<SystemArgs>();
  CLI::App* cmd = physics->add_subcommand(
      "system",
      "Write the OpenMM System (XmlSerializer XML) of a dataset's atoms, with templates reduced to them "
      "as Python molearn's physics loss, or of a structure's atoms.");
  cmd->add_option("input", args->input, "Dataset (.mlds) or structure (PDB, mmCIF; DCD/XTC with --top)")->required();
  cmd->add_option("-o,--output", args->output, "System file to write (.xml)")->required();
  cmd->add_option("--top,-t", args->topology, "Topology of a DCD or XTC input");
  add_physics_options(cmd, args->physics, "soft for datasets, full for structures");
  cmd->add_option("--atoms", args->physics.atoms, "Structures only: keep these atoms (as 'molearn energy --atoms')");
  cmd->footer(
      "Examples:\n"
      "  molearn physics system murd.mlds -o murd_system.xml\n"
      "  molearn physics system murd.mlds -o murd_full_nb.xml --nonbonded full --cutoff 1.2\n"
      "  molearn physics system protein_with_hydrogens.pdb -o system.xml --implicit obc2\n"
      "Load it in Python: openmm.XmlSerializer.deserialize(open('system.xml').read()).\n"
      "Force groups: 0 bonds, 1 angles, 2 torsions, 3 non-bonded, 4 implicit solvent.");
  cmd->callback([args] { run_physics_system(*args); });
}

}  // namespace molearn::cli
