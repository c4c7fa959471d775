// `molearn info`: what a dataset file or a training checkpoint holds.
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <set>
#include <vector>

#include "commands.hpp"
#include "molearn/core/error.hpp"
#include "molearn/data/dataset_file.hpp"
#include "molearn/models/architecture_options.hpp"
#include "molearn/train/checkpoint_summary.hpp"

namespace molearn::cli {

namespace {

struct InfoArgs {
  std::string path;
  bool json = false;
};

nlohmann::json summary_of(const Dataset& d) {
  std::set<std::string> chains;
  for (const Atom& a : d.topology.atoms()) chains.insert(a.chain);
  std::size_t n_termini = 0, c_termini = 0;
  for (const auto& t : d.termini) {
    n_termini += t.n_terminal;
    c_termini += t.c_terminal;
  }
  return {{"frames", d.frame_count},
          {"atoms", d.atom_count()},
          {"residues", d.topology.residue_count()},
          {"chains", chains},
          {"chain_segments", n_termini},
          {"selection", d.settings.value("atoms", "")},
          {"residue_ranges", d.settings.value("residues", "")},
          {"aligned", d.settings.value("align", false)},
          {"mean", d.mean},
          {"std", d.std},
          {"train_frames", d.train_indices.size()},
          {"valid_frames", d.valid_indices.size()},
          {"seed", d.settings.value("seed", 0)},
          {"sources", d.sources},
          {"topology", d.topology_source},
          {"c_termini", c_termini}};
}

// A checkpoint is a zip archive (PyTorch's format); a dataset starts with its own magic bytes.
bool is_zip_archive(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  char magic[4] = {};
  return in.read(magic, 4) && std::string(magic, 4) == std::string("PK\x03\x04", 4);
}

// The options that shape each built-in architecture (a registered one: all).
std::string model_options_text(const nlohmann::json& model) {
  const std::string architecture = model.at("architecture").get<std::string>();
  std::vector<std::string> keys;
  for (const ArchitectureOption& a : architecture_options())
    if (a.shapes(architecture)) keys.push_back(a.key);
  if (keys.empty())
    for (const auto& [key, value] : model.items())
      if (key != "architecture" && key != "atoms" && key != "latent_dim") keys.push_back(key);
  std::string text;
  for (const auto& key : keys) text += (text.empty() ? "" : ", ") + key + " " + model.at(key).dump();
  return text;
}

void print_checkpoint(const nlohmann::json& s) {
  const nlohmann::json& model = s.at("model");
  const nlohmann::json& best = s.at("best");
  std::printf("checkpoint  %s\n", s.at("checkpoint").get<std::string>().c_str());
  std::printf("model       %s: %lld atoms, latent dimension %lld (%s)\n",
              model.at("architecture").get<std::string>().c_str(), model.at("atoms").get<long long>(),
              model.at("latent_dim").get<long long>(), model_options_text(model).c_str());
  std::printf("weights     %lld\n", s.at("weights").get<long long>());
  std::printf("trainer     %s\n", s.at("trainer").get<std::string>().c_str());
  std::string best_text = "best epoch " + std::to_string(best.at("epoch").get<int>());
  if (best.contains("valid_rmsd")) {
    char rmsd[64];
    std::snprintf(rmsd, sizeof rmsd, ": validation RMSD %.3f A", best.at("valid_rmsd").get<double>());
    best_text += rmsd;
  }
  std::printf("saved at    epoch %d (%s)\n", s.at("epochs").get<int>(), best_text.c_str());
  std::printf("dataset     %s (%zu residues; mean, std %.6g A, %.6g A)\n", s.at("dataset").get<std::string>().c_str(),
              s.at("residues").get<std::size_t>(), s.at("mean").get<double>(), s.at("std").get<double>());
}

void run_info(const InfoArgs& args) {
  // A FIFO or a device would block or never end: only regular files are read.
  std::error_code ec;
  if (std::filesystem::exists(args.path, ec) && !std::filesystem::is_regular_file(args.path, ec))
    throw InputError(args.path + ": not a regular file (a dataset or a checkpoint is expected)");
  const bool named_checkpoint = args.path.size() >= 5 && args.path.compare(args.path.size() - 5, 5, ".ckpt") == 0;
  if (named_checkpoint || is_zip_archive(args.path)) {
    const nlohmann::json s = checkpoint_summary(args.path);
    if (args.json)
      std::cout << s.dump(2) << '\n';
    else
      print_checkpoint(s);
    return;
  }
  // The metadata, and every coordinate checked (checksum, finite) in bounded
  // memory: a dataset of any size is described without being loaded.
  DatasetDataSection section;
  const Dataset d = read_dataset_metadata(args.path, section);
  check_dataset_coordinates(args.path, d, section);
  const nlohmann::json s = summary_of(d);
  if (args.json) {
    std::cout << s.dump(2) << '\n';
    return;
  }
  std::printf("dataset     %s\n", args.path.c_str());
  std::printf("frames      %zu\n", d.frame_count);
  std::printf("atoms       %zu\n", d.atom_count());
  std::printf("residues    %zu in %zu chain segment(s)\n", d.topology.residue_count(),
              s["chain_segments"].get<std::size_t>());
  std::printf("selection   %s%s%s\n", s["selection"].get<std::string>().c_str(),
              s["residue_ranges"].get<std::string>().empty() ? "" : ", residues ",
              s["residue_ranges"].get<std::string>().c_str());
  std::printf("aligned     %s\n", s["aligned"].get<bool>() ? "yes" : "no");
  std::printf("mean, std   %.6g A, %.6g A\n", d.mean, d.std);
  std::printf("split       %zu training, %zu validation (seed %llu)\n", d.train_indices.size(), d.valid_indices.size(),
              static_cast<unsigned long long>(s["seed"].get<std::uint64_t>()));
  std::printf("topology    %s\n", d.topology_source.c_str());
  for (const auto& source : d.sources) std::printf("source      %s\n", source.c_str());
}

}  // namespace

void add_info_command(CLI::App& app) {
  auto args = std::make_shared<InfoArgs>();
  CLI::App* cmd = app.add_subcommand(
      "info",
      "Describe a dataset file (frames, atoms, residues, selection, scale, split) or a training checkpoint (model "
      "and its options, weights, trainer, epochs and the best one, dataset).");
  cmd->add_option("file", args->path,
                  "Dataset (.mlds, from 'molearn prepare') or checkpoint (.ckpt, from 'molearn train')")
      ->required();
  cmd->add_flag("--json", args->json, "Print the summary as JSON");
  cmd->footer(
      "Examples:\n"
      "  molearn info murd.mlds\n"
      "  molearn info murd.mlds --json\n"
      "  molearn info run/best.ckpt");
  cmd->callback([args] { run_info(*args); });
}

}  // namespace molearn::cli
