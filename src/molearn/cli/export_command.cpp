// `molearn export`: a trained model for PyTorch users.
#include "commands.hpp"
#include "molearn/core/error.hpp"

namespace molearn::cli {

void add_export_command(CLI::App& app) {
  auto checkpoint = std::make_shared<std::string>();
  auto output = std::make_shared<std::string>();
  CLI::App* cmd = app.add_subcommand("export", "Export a trained model for PyTorch (not yet available).");
  cmd->add_option("checkpoint", *checkpoint, "Checkpoint written by 'molearn train'")->required();
  cmd->add_option("-o,--output", *output, "Output file")->required();
  cmd->footer("Examples:\n  molearn export run/best.ckpt -o model.pt");
  cmd->callback([] {
    throw NotImplementedError("'molearn export' is not available yet in this version");
  });
}

}  // namespace molearn::cli
