// Export of a trained model as a TorchScript module, so that PyTorch users can
// `torch.jit.load` it without molearn:
//
//   m = torch.jit.load("model.pt")
//   z = m.encode(x)              # x: [B, 3, N] scaled coordinates -> [B, latent]
//   x = m.decode(z)              # [B, latent] -> [B, 3, N] scaled
//   xyz = m.decode_angstrom(z)   # [B, N, 3] in Å, ready to write with the topology
//   m.mean, m.std, m.atoms, m.latent_dim, m.architecture, m.topology_json
//
// The module's methods are TorchScript source generated here from the
// architecture and the model's configuration; the parameters are those of the
// checkpoint, named with "__" for ".". docs/export.md describes it.
#pragma once

#include <string>

namespace molearn {

// Reads `checkpoint` and writes the TorchScript module to `path` atomically.
// Throws InputError, FormatError, OutputError.
void export_torchscript(const std::string& checkpoint, const std::string& path);

}  // namespace molearn
