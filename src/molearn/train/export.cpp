#include "molearn/train/export.hpp"

#include <torch/script.h>

#include <sstream>

#include "molearn/core/atomic_file.hpp"
#include "molearn/core/error.hpp"
#include "molearn/data/dataset_file.hpp"
#include "molearn/train/checkpoint.hpp"
#include "molearn/train/torchscript_source.hpp"

namespace molearn {

namespace {

std::string attribute_name(std::string name) {
  std::string out;
  for (char c : name) {
    if (c == '.')
      out += "__";
    else
      out += c;
  }
  return out;
}

constexpr const char* kCommonMethods = R"(
def forward(self, x):
    return self.decode(self.encode(x))

def decode_angstrom(self, z):
    return (self.decode(z) * self.std + self.mean).permute(0, 2, 1).contiguous()
)";

}  // namespace

void export_torchscript(const std::string& checkpoint, const std::string& path) {
  check_output_is_not_input(path, {checkpoint});
  check_regular_output(path);
  const LoadedCheckpoint loaded = load_checkpoint(checkpoint);
  torch::jit::Module module("MolearnAutoencoder");
  for (const auto& p : loaded.model->named_parameters())
    module.register_parameter(attribute_name(p.key()), p.value().detach().clone(), false);
  for (const auto& b : loaded.model->named_buffers())
    module.register_buffer(attribute_name(b.key()), b.value().clone());
  module.register_attribute("mean", c10::FloatType::get(), loaded.state.mean);
  module.register_attribute("std", c10::FloatType::get(), loaded.state.std);
  module.register_attribute("atoms", c10::IntType::get(), loaded.state.model.atoms);
  module.register_attribute("latent_dim", c10::IntType::get(), loaded.state.model.latent_dim);
  module.register_attribute("architecture", c10::StringType::get(), loaded.state.model.architecture);
  module.register_attribute("topology_json", c10::StringType::get(), topology_to_json(loaded.state.topology).dump());
  try {
    module.define(torchscript_source(loaded.state.model) + kCommonMethods);
  } catch (const c10::Error& e) {
    // Generated source that does not compile is a molearn bug, not bad input.
    throw Error("internal error: the TorchScript of the '" + loaded.state.model.architecture +
                "' model does not compile: " + e.what_without_backtrace());
  }
  module.eval();

  // Serialised in memory: libtorch's save(file) ends the process when a
  // write fails (its zip writer throws from a destructor); AtomicFile
  // checks every write and moves the file into place only when complete.
  std::ostringstream bytes;
  module.save(bytes);
  AtomicFile file(path);
  file.stream() << bytes.str();
  file.commit();
}

}  // namespace molearn
