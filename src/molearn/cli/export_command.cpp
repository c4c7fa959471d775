// `molearn export`: a trained model for PyTorch users.
#include <cstdio>
#include <memory>

#include "commands.hpp"
#include "molearn/train/export.hpp"

namespace molearn::cli {

void add_export_command(CLI::App& app) {
  auto checkpoint = std::make_shared<std::string>();
  auto output = std::make_shared<std::string>();
  CLI::App* cmd =
      app.add_subcommand("export",
                         "Export a trained model as a TorchScript module: in Python, m = torch.jit.load('model.pt'); "
                         "m.encode(x), m.decode(z), m.decode_angstrom(z), m.mean, m.std, m.topology_json.");
  cmd->add_option("checkpoint", *checkpoint, "Checkpoint written by 'molearn train'")->required();
  cmd->add_option("-o,--output", *output, "TorchScript file to write (.pt)")->required();
  cmd->footer(
      "Examples:\n"
      "  molearn export run/best.ckpt -o model.pt\n"
      "  python3 -c \"import torch; m = torch.jit.load('model.pt'); print(m.decode_angstrom(torch.zeros(1, "
      "2)).shape)\"");
  cmd->callback([checkpoint, output] {
    export_torchscript(*checkpoint, *output);
    std::printf("wrote %s\n", output->c_str());
  });
}

}  // namespace molearn::cli
