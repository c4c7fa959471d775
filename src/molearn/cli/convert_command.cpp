// `molearn convert`: read any supported trajectory, write PDB, DCD or NPY.
#include <cstdio>
#include <memory>

#include "commands.hpp"
#include "molearn/core/atomic_file.hpp"
#include "molearn/core/error.hpp"
#include "molearn/data/npy.hpp"
#include "molearn/data/selection.hpp"
#include "molearn/io/trajectory_reader.hpp"
#include "molearn/io/trajectory_writer.hpp"
#include "option_checks.hpp"
#include "progress.hpp"

namespace molearn::cli {

namespace {

struct ConvertArgs {
  std::vector<std::string> inputs;
  std::string topology;
  std::string output;
  SelectionSpec selection{"all", "", false};
  std::size_t stride = 1;
};

bool ends_with_npy(const std::string& path) { return path.size() > 4 && path.ends_with(".npy"); }

void run_convert(const ConvertArgs& args) {
  std::vector<std::string> inputs = args.inputs;
  inputs.push_back(args.topology);
  check_output_is_not_input(args.output, inputs);
  const Topology full = read_topology_for(args.inputs.front(), args.topology);
  const auto selected = select_atoms(full, args.selection);
  const Topology topology = full.subset(selected);

  const bool npy = ends_with_npy(args.output);
  std::unique_ptr<TrajectoryWriter> writer;
  if (!npy) writer = open_trajectory_writer(args.output, topology);
  std::vector<float> all;  // NPY needs the shape up front, so frames are kept
  Frame in, out;
  std::size_t written = 0;
  ProgressLine line;
  for (const auto& path : args.inputs) {
    auto reader = open_trajectory(path, &full);
    for (std::size_t index = 0;; ++index) {
      const bool wanted = index % args.stride == 0;
      if (!(wanted ? reader->read(in) : reader->skip())) break;
      if (!wanted) continue;
      out.xyz.clear();
      for (std::size_t i : selected) out.xyz.insert(out.xyz.end(), &in.xyz[3 * i], &in.xyz[3 * i] + 3);
      out.cell = in.cell;
      out.time_ps = in.time_ps;
      out.step = in.step;
      if (npy)
        all.insert(all.end(), out.xyz.begin(), out.xyz.end());
      else
        writer->write(out);
      ++written;
      line.update("converting " + path + ": frame " + std::to_string(index + 1));
    }
  }
  line.finish();
  if (npy)
    write_npy(args.output, all.data(), {written, topology.atom_count(), 3});
  else
    writer->close();
  std::printf("wrote %zu frames x %zu atoms to %s\n", written, topology.atom_count(), args.output.c_str());
}

}  // namespace

void add_convert_command(CLI::App& app) {
  auto args = std::make_shared<ConvertArgs>();
  CLI::App* cmd = app.add_subcommand(
      "convert",
      "Convert structures or trajectories to multi-model PDB, DCD or NumPy (.npy, [frames, atoms, 3] in A).");
  cmd->add_option("inputs", args->inputs, "Structure or trajectory files (PDB, mmCIF, DCD, XTC)")->required();
  cmd->add_option("--top,-t", args->topology, "Topology (PDB or mmCIF); required for DCD and XTC");
  cmd->add_option("-o,--output", args->output, "Output file: .pdb, .dcd or .npy")->required();
  cmd->add_option("--atoms", args->selection.atoms,
                  "Atom names (comma-separated) or one of backbone, heavy, protein, all")
      ->capture_default_str();
  cmd->add_option("--residues", args->selection.residues, "Residue ranges to keep, e.g. 1-100");
  cmd->add_flag("--no-hydrogens", args->selection.remove_hydrogens, "Drop hydrogen atoms");
  cmd->add_option("--stride", args->stride, "Keep every K-th frame")->capture_default_str()->check(positive_number());
  cmd->footer(
      "Examples:\n"
      "  molearn convert traj.xtc --top system.pdb -o traj.dcd --atoms protein\n"
      "  molearn convert MurD_test.dcd --top MurD_test_topo.pdb -o murd.pdb --stride 4\n"
      "  molearn convert ensemble.pdb -o coords.npy --atoms CA");
  cmd->callback([args] { run_convert(*args); });
}

}  // namespace molearn::cli
