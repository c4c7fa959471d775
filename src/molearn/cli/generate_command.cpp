// `molearn generate`: structures from a trained model.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <memory>

#include "commands.hpp"
#include "molearn/core/allocator.hpp"
#include "molearn/core/error.hpp"
#include "molearn/train/generation.hpp"
#include "molearn/train/precision.hpp"
#include "option_checks.hpp"

namespace molearn::cli {

namespace {

struct GenerateArgs {
  GenerateOptions options;
  std::vector<std::string> latent;
  std::string interpolate;
};

std::pair<std::size_t, std::size_t> parse_frame_pair(const std::string& text) {
  const auto values = parse_latent_point(text);
  if (values.size() != 2 || values[0] < 0 || values[1] < 0 || values[0] != std::floor(values[0]) ||
      values[1] != std::floor(values[1]))
    throw InputError("--interpolate takes two frame indices 'i,j' (0-based), got '" + text + "'");
  return {static_cast<std::size_t>(values[0]), static_cast<std::size_t>(values[1])};
}

// Per-frame lines, then a summary line that scripts can grep.
void print_reconstruction(const std::vector<double>& rmsd) {
  double sum = 0, worst = 0;
  for (std::size_t f = 0; f < rmsd.size(); ++f) {
    std::printf("frame %zu reconstruction RMSD %.3f A\n", f, rmsd[f]);
    sum += rmsd[f];
    worst = std::max(worst, rmsd[f]);
  }
  std::printf("reconstruction RMSD over %zu frames: mean %.3f A, max %.3f A\n", rmsd.size(),
              sum / static_cast<double>(std::max<std::size_t>(rmsd.size(), 1)), worst);
}

void run_generate(GenerateArgs& args) {
  keep_freed_memory_for_reuse();  // decoding's activations are not page-faulted in again (core/allocator.hpp)
  for (const auto& text : args.latent) args.options.latent_points.push_back(parse_latent_point(text));
  if (!args.interpolate.empty()) args.options.interpolate = parse_frame_pair(args.interpolate);
  if (const std::string note = precision_note(args.options.precision); !note.empty()) std::printf("%s\n", note.c_str());
  const GenerateResult result = generate_structures(args.options);
  std::printf("wrote %zu structures x %zu atoms to %s\n", result.structures, result.atoms, args.options.output.c_str());
  if (args.options.reconstruct) print_reconstruction(result.rmsd);
}

}  // namespace

void add_generate_command(CLI::App& app) {
  auto args = std::make_shared<GenerateArgs>();
  CLI::App* cmd = app.add_subcommand(
      "generate",
      "Decode latent points, a straight latent path between two dataset frames, the reconstructions "
      "of every dataset frame, or samples of a Sinkhorn-trained model's N(0, I) prior into structures "
      "(in A, with the training topology) written as multi-model PDB or DCD.");
  cmd->add_option("checkpoint", args->options.checkpoint, "Checkpoint written by 'molearn train'")->required();
  cmd->add_option("--latent", args->latent, "A latent point 'x,y' (repeat for several)");
  cmd->add_option("--interpolate", args->interpolate, "Two dataset frames 'i,j' (0-based) to interpolate between");
  cmd->add_option("--steps", args->options.steps,
                  "Structures along the path, both ends included (2 to " + std::to_string(kMaxGenerateSteps) + ")")
      ->capture_default_str();
  cmd->add_option("--sample", args->options.sample,
                  "Decode this many latent points drawn from N(0, I), for a model trained with --trainer sinkhorn")
      ->check(positive_number());
  cmd->add_option("--seed", args->options.seed, "Seed of --sample's latent points")
      ->capture_default_str()
      ->check(non_negative_number());
  cmd->add_flag("--reconstruct", args->options.reconstruct,
                "Encode and decode every frame of the dataset; prints each frame's RMSD (A) to its reconstruction");
  cmd->add_option("--data", args->options.dataset,
                  "Dataset for --interpolate and --reconstruct (default: the training dataset)");
  cmd->add_option("-o,--output", args->options.output, "Output file (.pdb or .dcd)")->required();
  add_threads_option(cmd, args->options.threads, "Threads (0: all cores)");
  add_precision_option(cmd, args->options.precision, "encoding and decoding");
  cmd->footer(
      "Examples:\n"
      "  molearn generate run/best.ckpt --latent 0.1,-0.3 --latent 0.5,0.5 -o points.pdb\n"
      "  molearn generate run/best.ckpt --interpolate 0,15 --steps 20 -o path.dcd\n"
      "  molearn generate run/best.ckpt --interpolate 2,7 --data murd.mlds -o path.pdb\n"
      "  molearn generate run/best.ckpt --reconstruct -o reconstructed.dcd\n"
      "  # 100 new conformations from a model trained with --trainer sinkhorn\n"
      "  molearn generate run-sk/best.ckpt --sample 100 --seed 1 -o samples.dcd");
  cmd->callback([args] { run_generate(*args); });
}

}  // namespace molearn::cli
