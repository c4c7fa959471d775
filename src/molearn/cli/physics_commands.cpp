// `molearn energy` and `molearn physics`: force-field energies (placeholder
// until the force-field reader lands; answers with a clear "not yet").
#include "commands.hpp"
#include "molearn/core/error.hpp"

namespace molearn::cli {

void add_energy_command(CLI::App& app) {
  CLI::App* cmd = app.add_subcommand("energy", "Force-field energy of structures (not yet available).");
  cmd->allow_extras();
  cmd->footer("Examples:\n  molearn energy structure.pdb");
  cmd->callback([] { throw NotImplementedError("'molearn energy' is not available yet in this version"); });
}

void add_physics_command(CLI::App& app) {
  CLI::App* cmd = app.add_subcommand("physics", "Force-field systems for OpenMM (not yet available).");
  cmd->allow_extras();
  cmd->footer("Examples:\n  molearn physics system data.mlds -o system.xml");
  cmd->callback([] { throw NotImplementedError("'molearn physics' is not available yet in this version"); });
}

}  // namespace molearn::cli
