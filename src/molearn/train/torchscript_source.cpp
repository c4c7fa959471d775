#include "molearn/train/torchscript_source.hpp"

#include <cmath>
#include <sstream>

#include "molearn/core/error.hpp"

namespace molearn {

namespace {

// Batch norm in eval mode (exported models are for inference).
std::string batch_norm(const std::string& x, const std::string& p) {
  return "torch.batch_norm(" + x + ", self." + p + "__weight, self." + p + "__bias, self." + p +
         "__running_mean, self." + p + "__running_var, False, 0.1, 1e-05, False)";
}

// Mirrors Conv1dAutoencoderImpl (models/conv1d_autoencoder.hpp documents the
// layout and names).
std::string conv1d_source(const ModelConfig& c) {
  std::vector<std::int64_t> channels;
  for (std::int64_t i = 0; i < c.depth; ++i)
    channels.push_back(static_cast<std::int64_t>(
        std::round(static_cast<double>(c.init_channels) * std::pow(c.channel_growth, static_cast<double>(i)))));
  const std::int64_t scale = std::int64_t{1} << c.depth;
  const std::int64_t reduced = std::max<std::int64_t>(2, (c.atoms + scale - 1) / scale);
  const std::int64_t padded = reduced * scale;
  const std::int64_t pooled = std::min<std::int64_t>(reduced, 4);
  auto residual = [&](std::ostringstream& s, const std::string& block) {
    for (std::int64_t j = 0; j < c.residual_blocks; ++j) {
      const std::string r = block + "__res" + std::to_string(j);
      s << "    x = x + torch.relu(" << batch_norm("torch.conv1d(x, self." + r + "__conv__weight, None, [1], [1])", r + "__bn")
        << ")\n";
    }
  };
  std::ostringstream s;
  s << "def encode(self, x):\n";
  if (padded > c.atoms) s << "    x = torch.constant_pad_nd(x, [0, " << padded - c.atoms << "])\n";
  for (std::int64_t i = 0; i < c.depth; ++i) {
    const std::string b = "down" + std::to_string(i);
    s << "    x = torch.relu(" << batch_norm("torch.conv1d(x, self." + b + "__conv__weight, None, [2], [1])", b + "__bn")
      << ")\n";
    residual(s, b);
  }
  s << "    x = torch.sigmoid(torch.adaptive_avg_pool1d(x, [" << pooled << "]))\n";
  s << "    return torch.linear(x.flatten(1), self.enc_fc__weight, self.enc_fc__bias)\n\n";
  s << "def decode(self, z):\n";
  s << "    x = torch.linear(z, self.dec_fc__weight, self.dec_fc__bias).view(z.size(0), " << channels.back() << ", "
    << reduced << ")\n";
  for (std::int64_t k = 0; k < c.depth; ++k) {
    const std::string b = "up" + std::to_string(k);
    s << "    x = torch.relu("
      << batch_norm("torch.conv_transpose1d(x, self." + b + "__conv__weight, None, [2], [1])", b + "__bn") << ")\n";
    residual(s, b);
  }
  s << "    x = torch.conv1d(x, self.head__weight, self.head__bias, [1], [1])\n";
  s << "    return x.narrow(2, 0, " << c.atoms << ").contiguous()\n";
  return s.str();
}

}  // namespace

std::string torchscript_source(const ModelConfig& config) {
  if (config.architecture == "conv1d") return conv1d_source(config);
  throw InputError("export of '" + config.architecture + "' models is not available yet");
}

}  // namespace molearn
