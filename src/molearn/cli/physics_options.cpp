#include "physics_options.hpp"

#include <cstdio>

#include "molearn/core/error.hpp"
#include "option_checks.hpp"

namespace molearn::cli {

TerminiSource PhysicsArgs::termini_source(const Topology& topology) const {
  if (termini == "auto")
    return atom_names_without_hydrogens(topology) ? TerminiSource::Chains : TerminiSource::Geometry;
  return termini == "chains" ? TerminiSource::Chains : TerminiSource::Geometry;
}

SystemOptions PhysicsArgs::system_options(const char* default_nonbonded) const {
  SystemOptions options;
  options.nonbonded = parse_nonbonded_model(nonbonded.empty() ? default_nonbonded : nonbonded);
  if (!implicit.empty() && implicit != "obc2")
    throw InputError("unknown implicit-solvent model '" + implicit + "' (molearn supports obc2)");
  options.implicit_obc2 = implicit == "obc2";
  options.nonbonded_cutoff_nm = nonbonded_cutoff_nm;
  return options;
}

void add_physics_options(CLI::App* cmd, PhysicsArgs& args, const char* default_nonbonded) {
  cmd->add_option("--forcefield,--ff", args.forcefield,
                  "OpenMM force-field XML files (repeat or separate by commas); names are looked up in the current "
                  "folder, then in " +
                      forcefield_data_dir())
      ->delimiter(',')
      ->capture_default_str();
  cmd->add_option("--nonbonded", args.nonbonded,
                  std::string("Non-bonded model: none, soft (Python molearn's soft-core repulsion C/((r/0.2)^4+1), "
                              "C = 1 kJ/mol, r in nm) or full (Coulomb + Lennard-Jones); default ") +
                      default_nonbonded)
      ->check(CLI::IsMember({"none", "soft", "full"}));
  cmd->add_option("--implicit", args.implicit, "Implicit solvent: obc2 (full-atom systems, --nonbonded full)")
      ->check(CLI::IsMember({"obc2"}));
  cmd->add_option("--termini", args.termini,
                  "Where chains end: chains (first and last residue of each chain ID), geometry (C-N over 2 A), or "
                  "auto: chains for structures without hydrogens (generated conformers, whose stretched bonds "
                  "would read as chain breaks), geometry for full-atom ones")
      ->capture_default_str()
      ->check(CLI::IsMember({"auto", "geometry", "chains"}));
  cmd->add_option("--cutoff,--nonbonded-cutoff", args.nonbonded_cutoff_nm,
                  "Non-bonded cutoff in nm (switched off over the last 0.1 nm); 0 computes every pair")
      ->capture_default_str()
      ->check(non_negative_number());
}

MatchedTopology match_structure_in(const std::string& path, const ForceField& ff, const Topology& topology,
                                   std::span<const float> xyz, const std::optional<std::string>& atoms,
                                   TerminiSource termini) {
  try {
    return match_structure(ff, topology, xyz, atoms, termini);
  } catch (const InputError& e) {
    throw InputError(path + ": " + e.what());
  }
}

std::string joined(const std::vector<std::string>& items, const char* separator) {
  std::string text;
  for (const auto& s : items) text += (text.empty() ? "" : separator) + s;
  return text;
}

void report_notes(const MatchedTopology& matched, const SystemOptions& options) {
  if (!matched.skipped.empty())
    std::fprintf(stderr, "note: left out residues the force field has no template for: %s\n",
                 joined(matched.skipped).c_str());
  // Reduced templates keep the charges of the kept atoms only, so residues
  // carry large net charges and Coulomb energies mean little.
  if (matched.reduced && options.nonbonded == NonbondedModel::Full)
    std::fprintf(stderr,
                 "note: reduced templates keep only the charges of the selected atoms; full Coulomb energies of a "
                 "reduced system are not physical (Python molearn uses --nonbonded soft)\n");
}

std::string describe_model(const SystemOptions& options, const ForceField& ff) {
  std::string text = std::string("non-bonded ") + nonbonded_model_name(options.nonbonded);
  if (options.implicit_obc2 || ff.implicit_obc2 || ff.obc.present) text += " + OBC2";
  char cutoff[32];
  std::snprintf(cutoff, sizeof cutoff, ", cutoff %g nm", options.nonbonded_cutoff_nm);
  text += options.nonbonded_cutoff_nm > 0 ? cutoff : ", no cutoff";
  return text;
}

}  // namespace molearn::cli
