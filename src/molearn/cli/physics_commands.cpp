// `molearn energy` (force-field energies of structures) and `molearn physics
// system` (an OpenMM System file for a dataset or a structure).
#include <cmath>
#include <cstdio>
#include <iostream>
#include <memory>
#include <optional>

#include <OpenMM.h>

#include "commands.hpp"
#include "molearn/analysis/energy_metric_torch.hpp"
#include "molearn/core/error.hpp"
#include "molearn/data/dataset_file.hpp"
#include "molearn/data/npy.hpp"
#include "molearn/data/polymer.hpp"
#include "molearn/data/selection.hpp"
#include "molearn/io/trajectory_reader.hpp"
#include "molearn/physics/forcefield_reader.hpp"
#include "molearn/physics/structure_matching.hpp"
#include "molearn/physics/system_builder.hpp"
#include "molearn/physics/system_xml.hpp"
#include "option_checks.hpp"
#include "physics_options.hpp"
#include "progress.hpp"

namespace molearn::cli {

namespace {

// ---- molearn energy ----

struct EnergyArgs {
  std::string input;
  std::string topology;
  PhysicsArgs physics;
  std::string engine = "auto";
  std::string platform = "auto";
  int threads = 0;
  bool json = false;
  std::string forces_npy;
};

nlohmann::json number_or_null(double value) { return std::isfinite(value) ? nlohmann::json(value) : nlohmann::json(); }

constexpr std::size_t kFramesPerBatch = 256;  // streamed: trajectories larger than memory

// The first frame of the input with its chain ends; the energy engine is
// built from it.
Conformers first_frame(const EnergyArgs& args, Topology topology, TrajectoryReader& reader) {
  Conformers first;
  Frame frame;
  if (!reader.read(frame)) throw FormatError(args.input + ": contains no frames");
  first.topology = std::move(topology);
  first.frame_count = 1;
  first.xyz = frame.xyz;
  first.source = args.input;
  first.termini = args.physics.termini_source(first.topology) == TerminiSource::Chains
                      ? termini_from_chains(first.topology)
                      : find_termini(first.topology, first.xyz);
  return first;
}

EnergyMetricOptions energy_options(const EnergyArgs& args) {
  EnergyMetricOptions options;
  options.forcefield = args.physics.forcefield;
  options.atoms = args.physics.atoms;
  options.nonbonded = args.physics.nonbonded;
  options.implicit_obc2 = !args.physics.implicit.empty();
  if (options.implicit_obc2 && args.physics.implicit != "obc2")
    throw InputError("unknown implicit-solvent model '" + args.physics.implicit + "' (molearn supports obc2)");
  options.cutoff_nm = args.physics.nonbonded_cutoff_nm;
  options.engine = parse_energy_engine(args.engine);
  options.platform = args.platform;
  options.threads = args.threads;
  return options;
}

void print_energies(const EnergyArgs& args, const MetricTable& table, std::size_t first_frame) {
  for (std::size_t r = 0; r < table.rows.size(); ++r) {
    const std::vector<double>& row = table.rows[r];
    const bool finite = std::isfinite(row[0]);
    if (args.json) {
      nlohmann::json line = {{"frame", first_frame + r}, {"total", number_or_null(row[0])}};
      for (std::size_t c = 1; c < row.size(); ++c) line[table.columns[c].substr(7)] = number_or_null(row[c]);
      line["finite"] = finite;
      std::cout << line.dump() << '\n';
    } else {
      std::printf("frame %zu: total %.4f", first_frame + r, row[0]);
      for (std::size_t c = 1; c < row.size(); ++c) std::printf("  %s %.4f", table.columns[c].c_str() + 7, row[c]);
      std::printf("%s\n", finite ? "" : "  (not finite: overlapping atoms or a non-finite coordinate?)");
    }
  }
  std::cout.flush();
  std::fflush(stdout);
}

void run_energy(const EnergyArgs& args) {
  Topology topology = read_topology_for(args.input, args.topology);
  rename_terminal_oxygens(topology);  // as `molearn prepare`, so that --atoms O keeps the C-terminal oxygen
  auto reader = open_trajectory(args.input, &topology);
  const Conformers first = first_frame(args, std::move(topology), *reader);
  ConformerEnergy energy(first, energy_options(args));
  report_notes(energy.matched(), energy.system_options());
  if (!args.json)
    std::printf("%s: %zu atoms%s; %s; %s; %s engine, %s (energies in kJ/mol)\n", args.input.c_str(),
                energy.matched().size(), energy.matched().reduced ? " (reduced templates)" : "",
                joined(energy.forcefield().files).c_str(),
                describe_model(energy.system_options(), energy.forcefield()).c_str(),
                energy_engine_name(energy.engine()), energy.platform().c_str());

  std::vector<double> all_forces, forces;
  std::vector<float> batch = first.xyz;
  std::size_t frames = 0, in_batch = 1;
  Frame frame;
  bool more = true;
  while (in_batch > 0) {
    while (in_batch < kFramesPerBatch && (more = reader->read(frame))) {
      batch.insert(batch.end(), frame.xyz.begin(), frame.xyz.end());
      ++in_batch;
    }
    const MetricTable table = energy.evaluate(batch, in_batch, args.forces_npy.empty() ? nullptr : &forces);
    print_energies(args, table, frames);
    all_forces.insert(all_forces.end(), forces.begin(), forces.end());
    frames += in_batch;
    batch.clear();
    in_batch = 0;
    if (more && reader->read(frame)) {
      batch = frame.xyz;
      in_batch = 1;
    }
  }
  if (!args.forces_npy.empty()) {
    const std::vector<float> forces_f(all_forces.begin(), all_forces.end());
    write_npy(args.forces_npy, forces_f.data(), {frames, energy.matched().size(), 3});
  }
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
    Topology topology = read_topology_for(args.input, args.topology);
    rename_terminal_oxygens(topology);
    Frame frame;
    if (!open_trajectory(args.input, &topology)->read(frame)) throw FormatError(args.input + ": contains no frames");
    // As `energy` and `relax`: a structure without hydrogens gets templates
    // reduced to its atoms and the soft core.
    const std::optional<std::string> atoms = args.physics.atoms.empty()
                                                 ? atom_names_without_hydrogens(topology)
                                                 : std::optional<std::string>(args.physics.atoms);
    matched = match_structure_in(args.input, ff, topology, frame.xyz, atoms, args.physics.termini_source(topology));
    options = args.physics.system_options(matched.reduced ? "soft" : "full");
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
                         "(bond, angle, torsion, nonbonded, gb), in kJ/mol, computed by molearn's batched libtorch "
                         "force field or by OpenMM (--engine).");
  cmd->add_option("input", args->input, "Structure or trajectory (PDB, mmCIF, DCD, XTC); coordinates in A")->required();
  cmd->add_option("--top,-t", args->topology, "Topology (PDB or mmCIF); required for DCD and XTC");
  add_physics_options(cmd, args->physics, "soft for reduced templates (no hydrogens or --atoms), else full");
  cmd->add_option("--atoms", args->physics.atoms,
                  "Energy of a reduced system: atom names (e.g. N,CA,CB,C,O, as Python molearn's physics loss) or "
                  "backbone, heavy, protein, all; templates keep only these atoms. Default: for a structure without "
                  "hydrogens (e.g. generated conformers), templates reduced to the atom names it has, with the soft "
                  "non-bonded model; else every atom of every residue the force field has a template for");
  cmd->add_option("--engine", args->engine,
                  "Who computes: torch (molearn's batched libtorch force field, double precision; many structures "
                  "at once), openmm (one OpenMM Context per thread), or auto: torch unless the model needs OpenMM "
                  "(implicit solvent, a cutoff)")
      ->capture_default_str()
      ->check(CLI::IsMember({"auto", "torch", "openmm"}));
  cmd->add_option("--platform", args->platform,
                  "OpenMM platform of --engine openmm: auto (the faster for the model, see docs/physics.md), CPU or "
                  "Reference")
      ->capture_default_str()
      ->check(CLI::IsMember({"auto", "CPU", "Reference"}));
  add_threads_option(cmd, args->threads, "Threads (default: every core)");
  cmd->add_flag("--json", args->json,
                "JSON Lines: one JSON object per frame, one line each (non-finite energies are null)");
  cmd->add_option("--forces", args->forces_npy,
                  "Also write the forces as a NumPy array [frames, atoms, 3] in kJ/mol/nm (atoms of the system, "
                  "in file order)");
  cmd->footer(
      "Examples:\n"
      "  molearn energy path.pdb                      (structures from 'molearn generate': reduced, soft)\n"
      "  molearn energy protein_with_hydrogens.pdb\n"
      "  molearn energy protein_with_hydrogens.pdb --implicit obc2 --json\n"
      "  molearn energy MurD_test.dcd --top MurD_test_topo.pdb --atoms N,CA,CB,C,O --nonbonded soft\n"
      "  molearn energy model.pdb --forcefield amber99sbildn.xml --engine openmm --platform Reference --forces f.npy");
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
  add_physics_options(cmd, args->physics,
                      "soft for datasets and structures without hydrogens (reduced templates), full otherwise");
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
