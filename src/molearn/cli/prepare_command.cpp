// `molearn prepare`: trajectories -> training dataset (.mlds).
#include <cstdio>
#include <filesystem>
#include <memory>
#include <set>

#include "commands.hpp"
#include "molearn/core/atomic_file.hpp"
#include "molearn/core/error.hpp"
#include "molearn/data/dataset_file.hpp"
#include "molearn/data/npy.hpp"
#include "molearn/data/prepare.hpp"
#include "option_checks.hpp"
#include "progress.hpp"

namespace molearn::cli {

namespace {

struct PrepareArgs {
  PrepareOptions options;
  std::string output;
  std::string npy;
};

std::string describe_chains(const Topology& topology) {
  std::set<std::string> chains;
  for (const Atom& a : topology.atoms()) chains.insert(a.chain.empty() ? "(blank)" : a.chain);
  std::string text;
  for (const auto& c : chains) text += (text.empty() ? "" : ",") + c;
  return text;
}

void run_prepare(const PrepareArgs& args) {
  std::vector<std::string> inputs = args.options.inputs;
  inputs.push_back(args.options.topology);
  for (const std::string& output : {args.output, args.npy})
    if (!output.empty()) check_output_is_not_input(output, inputs);
  if (!args.npy.empty() && args.npy == args.output) throw molearn::InputError("-o and --npy name the same file");
  ProgressLine line;
  auto on_progress = [&line](const PrepareProgress& p) {
    std::string text = "reading " + p.file + ": frame " + std::to_string(p.frames_read);
    if (p.frames_in_file) text += " of " + std::to_string(*p.frames_in_file);
    line.update(text, p.file_done);
  };
  Dataset dataset = prepare_dataset(args.options, on_progress);
  line.finish();
  // The .npy first: when it cannot be written, no dataset is left behind
  // either, and a dataset that cannot be written takes the new .npy along.
  if (!args.npy.empty()) write_npy(args.npy, dataset.coords.data(), {dataset.frame_count, dataset.atom_count(), 3});
  try {
    write_dataset(dataset, args.output);
  } catch (const std::exception&) {
    std::error_code ec;
    if (!args.npy.empty()) std::filesystem::remove(args.npy, ec);
    throw;
  }
  std::printf("%zu frames x %zu atoms (%zu residues, chain %s; atoms %s)\n", dataset.frame_count, dataset.atom_count(),
              dataset.topology.residue_count(), describe_chains(dataset.topology).c_str(),
              args.options.selection.atoms.c_str());
  std::printf("centred%s; mean %.6g A, std %.6g A\n", args.options.align ? " and aligned to frame 0" : "", dataset.mean,
              dataset.std);
  std::printf("split: %zu training, %zu validation frames (seed %llu)\n", dataset.train_indices.size(),
              dataset.valid_indices.size(), static_cast<unsigned long long>(args.options.seed));
  std::printf("wrote %s%s%s\n", args.output.c_str(), args.npy.empty() ? "" : " and ", args.npy.c_str());
}

}  // namespace

void add_prepare_command(CLI::App& app) {
  auto args = std::make_shared<PrepareArgs>();
  CLI::App* cmd =
      app.add_subcommand("prepare",
                         "Turn structures or trajectories into a training dataset (.mlds): select atoms, "
                         "optionally align, centre each frame, scale by one global std, split train/validation.");
  cmd->add_option("inputs", args->options.inputs, "Structure or trajectory files (PDB, mmCIF, DCD, XTC), read in order")
      ->required();
  cmd->add_option("--top,-t", args->options.topology, "Topology (PDB or mmCIF); required for DCD and XTC");
  cmd->add_option("-o,--output", args->output, "Dataset file to write (.mlds)")->required();
  cmd->add_option("--atoms", args->options.selection.atoms,
                  "Atom names (comma-separated) or one of backbone, heavy, protein, all")
      ->capture_default_str();
  cmd->add_option("--residues", args->options.selection.residues,
                  "Residue ranges to keep, e.g. 1-100,120 or A:1-50,B:1-50");
  cmd->add_flag("--no-hydrogens", args->options.selection.remove_hydrogens, "Drop hydrogen atoms");
  cmd->add_flag("--align", args->options.align, "Superpose every frame on the first (Kabsch, selected atoms)");
  cmd->add_option("--stride", args->options.stride, "Keep every K-th frame of each file")
      ->capture_default_str()
      ->check(positive_number());
  cmd->add_option("--max-frames", args->options.max_frames,
                  "Keep at most N frames, evenly spaced over all frames read (0: all)")
      ->capture_default_str();
  cmd->add_option("--valid", args->options.valid_fraction, "Fraction of frames held out for validation")
      ->capture_default_str()
      ->check(number_in_range(0.0, 0.99));
  cmd->add_option("--seed", args->options.seed, "Seed of the train/validation split")
      ->capture_default_str()
      ->check(non_negative_number());
  cmd->add_option("--npy", args->npy, "Also write the scaled coordinates as a NumPy .npy array [frames, atoms, 3]");
  cmd->footer(
      "Examples:\n"
      "  molearn prepare MurD_test.dcd --top MurD_test_topo.pdb -o murd.mlds\n"
      "  molearn prepare ensemble.pdb -o nmr.mlds --atoms heavy --align --valid 0.2 --seed 7\n"
      "  molearn prepare run1.xtc run2.xtc --top system.pdb -o data.mlds --stride 10 --npy data.npy");
  cmd->callback([args] { run_prepare(*args); });
}

}  // namespace molearn::cli
