// `molearn info`: what a dataset file holds.
#include <cstdio>
#include <iostream>
#include <memory>
#include <set>

#include "commands.hpp"
#include "molearn/data/dataset_file.hpp"

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

void run_info(const InfoArgs& args) {
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
  CLI::App* cmd =
      app.add_subcommand("info", "Describe a dataset file: frames, atoms, residues, selection, scale, split.");
  cmd->add_option("dataset", args->path, "Dataset file written by 'molearn prepare'")->required();
  cmd->add_flag("--json", args->json, "Print the summary as JSON");
  cmd->footer(
      "Examples:\n"
      "  molearn info murd.mlds\n"
      "  molearn info murd.mlds --json");
  cmd->callback([args] { run_info(*args); });
}

}  // namespace molearn::cli
