// `molearn relax`: energy-minimise (and optionally briefly simulate)
// structures with the force field.
#include <cstdio>
#include <filesystem>
#include <memory>
#include <optional>
#include <set>

#include <OpenMM.h>  // complete OpenMM::System for the unique_ptr build_system returns

#include "commands.hpp"
#include "molearn/analysis/geometry_quality.hpp"
#include "molearn/analysis/scan_folder.hpp"
#include "molearn/core/atomic_file.hpp"
#include "molearn/core/error.hpp"
#include "molearn/data/polymer.hpp"
#include "molearn/data/selection.hpp"
#include "molearn/io/trajectory_reader.hpp"
#include "molearn/io/trajectory_writer.hpp"
#include "molearn/physics/relaxation.hpp"
#include "molearn/physics/structure_matching.hpp"
#include "option_checks.hpp"
#include "physics_options.hpp"
#include "progress.hpp"

namespace molearn::cli {

namespace {

struct RelaxArgs {
  std::string input;
  std::string topology;
  std::string output;
  std::string report;  // per-frame CSV; default: the output's name with .csv
  PhysicsArgs physics;
  RelaxOptions relax;
};

// What is left wrong in a relaxed structure: bonds the minimiser could not
// bring back (a chain threaded through itself, a bond stretched beyond
// recovery) and mirrored residues (no minimiser turns D into L).
struct FrameCheck {
  double bond_rms = 0, largest = 0, stretched = 0, d_residues = 0;
  bool flagged() const { return !(stretched == 0 && d_residues == 0); }  // NaN flags too
};

// Checks relaxed frames against the force field's ideal bonds. The chain
// ends are those relax used.
class RelaxedGeometry {
 public:
  RelaxedGeometry(const ForceField& ff, const Topology& topology, std::span<const float> xyz, TerminiSource termini) {
    conformers_.topology = topology;
    conformers_.termini =
        termini == TerminiSource::Chains ? termini_from_chains(topology) : find_termini(topology, xyz);
    conformers_.frame_count = 1;
    conformers_.xyz.assign(xyz.begin(), xyz.end());
    ideal_ = ideal_geometry(ff, conformers_);
  }
  std::size_t bond_count() const { return ideal_.bonds.size(); }
  FrameCheck check(const std::vector<float>& xyz) {
    conformers_.xyz = xyz;
    const MetricTable t = geometry_metrics(conformers_, ideal_, 1);
    const auto& row = t.rows[0];
    return {row[t.column_index("bond_rms_deviation")], row[t.column_index("max_bond_deviation")],
            row[t.column_index("stretched_bonds")], row[t.column_index("d_residues")]};
  }

 private:
  Conformers conformers_;
  IdealGeometry ideal_;
};

std::string default_report_path(const std::string& output) {
  const std::filesystem::path p(output);
  return (p.parent_path() / (p.stem().string() + ".csv")).string();
}

void run_relax(const RelaxArgs& args) {
  const std::string report_path = args.report.empty() ? default_report_path(args.output) : args.report;
  if (same_file(report_path, args.output))
    throw InputError(report_path + ": named both as the structures (-o) and the per-frame report (--report)");
  check_output_is_not_input(report_path, {args.input, args.topology});
  check_regular_output(report_path);
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
  const Topology out_topology = topology.subset(sources);
  auto writer = open_trajectory_writer(args.output, out_topology);
  std::vector<float> xyz(3 * sources.size());
  auto select = [&] {
    for (std::size_t i = 0; i < sources.size(); ++i)
      for (int k = 0; k < 3; ++k) xyz[3 * i + k] = frame.xyz[3 * sources[i] + k];
  };
  select();
  std::optional<RelaxedGeometry> geometry;
  try {
    geometry.emplace(ff, out_topology, xyz, args.physics.termini_source(topology));
  } catch (const InputError& e) {
    std::printf("note: bonds are not checked after relaxing: %s\n", e.what());
  }
  const std::string limit = args.relax.minimize_iterations > 0
                                ? "at most " + std::to_string(args.relax.minimize_iterations) + " iterations"
                                : "until converged";
  std::printf("%s: %zu atoms%s; %s; minimising (%s)%s\n", args.input.c_str(), sources.size(),
              matched.reduced ? " (reduced templates)" : "", describe_model(options, ff).c_str(), limit.c_str(),
              args.relax.md_steps > 0 ? " then Langevin dynamics" : "");
  AtomicFile report(report_path);
  report.stream() << "frame,energy_before,energy_after,bond_rms_deviation,max_bond_deviation,stretched_bonds,"
                     "d_residues,flagged\n";
  std::size_t index = 0;
  std::vector<std::size_t> flagged;
  do {
    if (index > 0) select();
    const RelaxResult result = relaxer.relax(xyz);
    Frame out;
    out.xyz = result.xyz_angstrom;
    writer->write(out);
    std::printf("frame %zu: %.2f -> %.2f kJ/mol", index, result.energy_before, result.energy_after);
    char line[256];
    std::snprintf(line, sizeof line, "%zu,%.6g,%.6g", index, result.energy_before, result.energy_after);
    report.stream() << line;
    if (geometry) {
      const FrameCheck c = geometry->check(result.xyz_angstrom);
      std::printf("; bonds: RMS %.3f A, largest %.3f A off, %g off by > 0.1 A", c.bond_rms, c.largest, c.stretched);
      if (c.d_residues != 0) std::printf("; %g mirrored (D) residues", c.d_residues);
      if (c.flagged()) {
        std::printf("  FLAGGED: not repaired");
        flagged.push_back(index);
      }
      std::snprintf(line, sizeof line, ",%.6g,%.6g,%g,%g,%d\n", c.bond_rms, c.largest, c.stretched, c.d_residues,
                    c.flagged() ? 1 : 0);
    } else {
      std::snprintf(line, sizeof line, ",,,,,\n");
    }
    report.stream() << line;
    if (result.separated_atoms > 0)
      std::printf(" (%zu atoms on top of others were first moved 0.01 A apart)", result.separated_atoms);
    std::printf("\n");
    std::fflush(stdout);
    ++index;
  } while (reader->read(frame));
  writer->close();
  report.commit();
  std::printf("wrote %zu relaxed structures to %s, and a line per frame to %s\n", index, args.output.c_str(),
              report_path.c_str());
  if (!geometry) return;
  if (flagged.empty()) {
    std::printf("every frame has its %zu bonds within 0.1 A of the force field's lengths and no mirrored residue\n",
                geometry->bond_count());
    return;
  }
  std::string list;
  for (std::size_t i = 0; i < flagged.size() && i < 20; ++i) list += (i ? ", " : "") + std::to_string(flagged[i]);
  if (flagged.size() > 20) list += ", ...";
  std::printf(
      "warning: %zu of %zu frames are still broken after relaxing (bonds off by > 0.1 A or mirrored residues): "
      "frames %s; see %s\n",
      flagged.size(), index, list.c_str(), report_path.c_str());
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
  cmd->add_option("--report", args->report,
                  "Per-frame CSV: energies, bond deviations from the force field's lengths, mirrored residues and "
                  "whether the frame is flagged as not repaired (default: the output's name with .csv)");
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
  cmd->add_option("--seed", args->relax.seed, "Seed of the Langevin thermostat")
      ->capture_default_str()
      ->check(non_negative_number());
  cmd->add_option("--platform", args->relax.platform,
                  "OpenMM platform: auto (the faster for the model), CPU or Reference")
      ->capture_default_str()
      ->check(CLI::IsMember({"auto", "CPU", "Reference"}));
  cmd->footer(
      "Examples:\n"
      "  molearn relax path.pdb -o path-relaxed.pdb   # and path-relaxed.csv: energies, bonds, flags\n"
      "  molearn relax generated.dcd --top generated.pdb -o relaxed.dcd --md-steps 1000 --temperature 300\n"
      "  molearn relax model.pdb -o model-min.pdb --nonbonded full --implicit obc2");
  cmd->callback([args] { run_relax(*args); });
}

}  // namespace molearn::cli
