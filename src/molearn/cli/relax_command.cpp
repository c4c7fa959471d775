// `molearn relax`: energy-minimise (and optionally briefly simulate)
// structures with the force field.
#include <cstdio>
#include <memory>
#include <optional>
#include <set>

#include <OpenMM.h>  // complete OpenMM::System for the unique_ptr build_system returns

#include "commands.hpp"
#include "molearn/core/error.hpp"
#include "molearn/data/selection.hpp"
#include "molearn/io/trajectory_reader.hpp"
#include "molearn/io/trajectory_writer.hpp"
#include "molearn/physics/relaxation.hpp"
#include "molearn/physics/structure_matching.hpp"
#include "physics_options.hpp"
#include "progress.hpp"

namespace molearn::cli {

namespace {

struct RelaxArgs {
  std::string input;
  std::string topology;
  std::string output;
  PhysicsArgs physics;
  RelaxOptions relax;
};

void run_relax(const RelaxArgs& args) {
  Topology topology = read_topology_for(args.input, args.topology);
  rename_terminal_oxygens(topology);
  auto reader = open_trajectory(args.input, &topology);
  Frame frame;
  if (!reader->read(frame)) throw FormatError(args.input + ": contains no frames");

  const ForceField ff = read_forcefield(args.physics.forcefield);
  const std::optional<std::string> atoms = args.physics.atoms.empty() ? atom_names_without_hydrogens(topology)
                                                                      : std::optional<std::string>(args.physics.atoms);
  const MatchedTopology matched =
      match_structure_in(args.input, ff, topology, frame.xyz, atoms, args.physics.termini_source(topology));
  // Generated conformers usually hold only the model's atoms (reduced
  // templates): there the soft core is the meaningful non-bonded model.
  const SystemOptions options = args.physics.system_options(matched.reduced ? "soft" : "full");
  report_notes(matched, options);
  Relaxer relaxer(build_system(ff, matched, options), args.relax);
  const std::vector<std::size_t> sources = matched.source_atoms();
  auto writer = open_trajectory_writer(args.output, topology.subset(sources));
  std::printf("%s: %zu atoms%s; %s; minimising (at most %d iterations)%s\n", args.input.c_str(), sources.size(),
              matched.reduced ? " (reduced templates)" : "", describe_model(options, ff).c_str(),
              args.relax.minimize_iterations, args.relax.md_steps > 0 ? " then Langevin dynamics" : "");
  std::vector<float> xyz(3 * sources.size());
  std::size_t index = 0;
  do {
    for (std::size_t i = 0; i < sources.size(); ++i)
      for (int k = 0; k < 3; ++k) xyz[3 * i + k] = frame.xyz[3 * sources[i] + k];
    const RelaxResult result = relaxer.relax(xyz);
    Frame out;
    out.xyz = result.xyz_angstrom;
    writer->write(out);
    std::printf("frame %zu: %.2f -> %.2f kJ/mol", index, result.energy_before, result.energy_after);
    if (result.separated_atoms > 0)
      std::printf(" (%zu atoms on top of others were first moved 0.01 A apart)", result.separated_atoms);
    std::printf("\n");
    std::fflush(stdout);
    ++index;
  } while (reader->read(frame));
  writer->close();
  std::printf("wrote %zu relaxed structures to %s\n", index, args.output.c_str());
}

}  // namespace

void add_relax_command(CLI::App& app) {
  auto args = std::make_shared<RelaxArgs>();
  CLI::App* cmd = app.add_subcommand(
      "relax",
      "Energy-minimise structures with the force field (OpenMM L-BFGS), optionally followed by short "
      "Langevin dynamics; writes the refined structures.");
  cmd->add_option("input", args->input, "Structures (PDB, mmCIF; DCD/XTC with --top)")->required();
  cmd->add_option("--top,-t", args->topology, "Topology of a DCD or XTC input");
  cmd->add_option("-o,--output", args->output, "Output file (.pdb or .dcd)")->required();
  cmd->add_option("--atoms", args->physics.atoms,
                  "Keep only these atoms, with templates reduced to them (default: full templates for structures "
                  "with hydrogens, else templates reduced to the atom names present, e.g. N,CA,CB,C,O)");
  add_physics_options(cmd, args->physics, "soft for reduced templates, full otherwise");
  cmd->add_option("--steps", args->relax.minimize_iterations, "Minimiser iterations (0: until converged)")
      ->capture_default_str();
  cmd->add_option("--tolerance", args->relax.tolerance, "Convergence: largest force, kJ/mol/nm")->capture_default_str();
  cmd->add_option("--md-steps", args->relax.md_steps, "Langevin dynamics steps after minimising")
      ->capture_default_str();
  cmd->add_option("--temperature", args->relax.temperature_k, "Temperature of the dynamics, K")->capture_default_str();
  cmd->add_option("--timestep", args->relax.timestep_fs, "Time step of the dynamics, fs")->capture_default_str();
  cmd->add_option("--seed", args->relax.seed, "Seed of the Langevin thermostat")->capture_default_str();
  cmd->add_option("--platform", args->relax.platform,
                  "OpenMM platform: auto (the faster for the model), CPU or Reference")
      ->capture_default_str()
      ->check(CLI::IsMember({"auto", "CPU", "Reference"}));
  cmd->footer(
      "Examples:\n"
      "  molearn relax path.pdb -o path-relaxed.pdb --steps 500\n"
      "  molearn relax generated.dcd --top generated.pdb -o relaxed.dcd --md-steps 1000 --temperature 300\n"
      "  molearn relax model.pdb -o model-min.pdb --nonbonded full --implicit obc2");
  cmd->callback([args] { run_relax(*args); });
}

}  // namespace molearn::cli
