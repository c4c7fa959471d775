#include "molearn/train/torchscript_source.hpp"

#include <cmath>
#include <iomanip>
#include <sstream>
#include <vector>

#include "molearn/core/error.hpp"
#include "molearn/models/distance_matrix_autoencoder.hpp"

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
      s << "    x = x + torch.relu("
        << batch_norm("torch.conv1d(x, self." + r + "__conv__weight, None, [1], [1])", r + "__bn") << ")\n";
    }
  };
  std::ostringstream s;
  s << "def encode(self, x):\n";
  if (padded > c.atoms) s << "    x = torch.constant_pad_nd(x, [0, " << padded - c.atoms << "])\n";
  for (std::int64_t i = 0; i < c.depth; ++i) {
    const std::string b = "down" + std::to_string(i);
    s << "    x = torch.relu("
      << batch_norm("torch.conv1d(x, self." + b + "__conv__weight, None, [2], [1])", b + "__bn") << ")\n";
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

std::string conv(const std::string& x, const std::string& p, int padding) {
  return "torch.conv1d(" + x + ", self." + p + "__weight, self." + p + "__bias, [1], [" + std::to_string(padding) +
         "])";
}

// Plain-tensor versions of FoldingNet's fused kernels (models/knn.hpp):
// exact pairwise distances (no matrix-product shortcut, so neighbour choices
// agree with the C++ kernel), neighbour max-pool and local covariance by gather.
constexpr const char* kFoldingNetHelpers = R"(
def knn_indices(self, x, k: int):
    points = x.transpose(1, 2)
    distances = torch.cdist(points, points, compute_mode=2)  # 2: exact differences, no matrix product
    return distances.topk(k, dim=2, largest=False)[1]

def neighbours(self, x, idx):
    b = x.size(0)
    c = x.size(1)
    n = x.size(2)
    k = idx.size(2)
    flat = idx.reshape(b, 1, n * k).expand(b, c, n * k)
    return torch.gather(x, 2, flat).view(b, c, n, k)

def local_covariance(self, x, idx):
    g = self.neighbours(x, idx)
    g = g - g.mean(dim=3, keepdim=True)
    return torch.einsum('bink,bjnk->bijn', g, g).reshape(x.size(0), 9, x.size(2))
)";

// foldingnet::Encoder (models/foldingnet.hpp documents the layout and names),
// as the method encode.
std::string foldingnet_encoder_source(const ModelConfig& c) {
  const std::int64_t k = std::min(c.knn, c.atoms);
  std::ostringstream s;
  s << "def encode(self, x):\n";
  s << "    idx = self.knn_indices(x, " << k << ")\n";
  s << "    h = torch.cat([x, self.local_covariance(x, idx)], 1)\n";
  for (int i = 1; i <= 3; ++i)
    s << "    h = torch.relu("
      << batch_norm(conv("h", "encoder__conv" + std::to_string(i), 0), "encoder__bn" + std::to_string(i)) << ")\n";
  for (int g = 1; g <= 2; ++g) {
    const std::string p = "encoder__graph_layer" + std::to_string(g);
    s << "    h = self.neighbours(h, self.knn_indices(h, " << k << ")).max(dim=3)[0]\n";
    s << "    h = torch.relu(" << batch_norm(conv("h", p + "__conv", 0), p + "__bn") << ")\n";
  }
  s << "    h = " << batch_norm(conv("h", "encoder__conv4", 0), "encoder__bn4") << "\n";
  s << "    h = h.max(dim=2, keepdim=True)[0]\n";
  s << "    return " << conv("h", "encoder__conv5", 0) << ".view(x.size(0), " << c.latent_dim << ")\n";
  return s.str();
}

// A decoder of foldingnet::DecoderLayer stages, as the method decode:
// stage l maps points[l - 1] to points[l] points; the result is cropped to
// the atoms.
std::string folding_decoder_source(const ModelConfig& c, const std::vector<std::int64_t>& points) {
  std::ostringstream s;
  s << "def decode(self, z):\n";
  s << "    h = z.view(z.size(0), " << c.latent_dim << ", 1)\n";
  for (std::size_t l = 1; l < points.size(); ++l) {
    const std::int64_t out_points = points[l], repeats = points[l] / points[l - 1];
    s << "    grid = torch.linspace(-0.5, 0.5, " << out_points << ", dtype=h.dtype).view(1, 1, " << out_points
      << ").expand(h.size(0), 1, " << out_points << ")\n";
    s << "    code = h.repeat_interleave(" << repeats << ", dim=2)\n";
    for (int f = 1; f <= 2; ++f) {
      const std::string p = "decoder__layer" + std::to_string(l) + "__fold" + std::to_string(f);
      const std::string input = f == 1 ? "torch.cat([grid, code], 1)" : "torch.cat([grid, code, r1], 1)";
      s << "    t = torch.relu(" << batch_norm(conv(input, p + "__conv1", 1), p + "__bn1") << ")\n";
      s << "    t = torch.relu(" << batch_norm(conv("t", p + "__conv2", 1), p + "__bn2") << ")\n";
      s << "    " << (f == 1 ? "r1 = " : "h = r1 + ") << conv("t", p + "__conv3", 1) << "\n";
    }
  }
  s << "    return h.narrow(2, 0, " << c.atoms << ").contiguous()\n";
  return s.str();
}

// Mirrors FoldingNetImpl (models/foldingnet.hpp).
std::string foldingnet_source(const ModelConfig& c) {
  const std::int64_t s0 = c.atoms / 128 + 1;
  return std::string(kFoldingNetHelpers) + "\n" + foldingnet_encoder_source(c) + "\n" +
         folding_decoder_source(c, {1, s0, 8 * s0, 32 * s0, 128 * s0});
}

// Mirrors SmallFoldingNetImpl (models/small_foldingnet.hpp).
std::string small_foldingnet_source(const ModelConfig& c) {
  const std::int64_t s0 = c.atoms / 8 + 1;
  return std::string(kFoldingNetHelpers) + "\n" + foldingnet_encoder_source(c) + "\n" +
         folding_decoder_source(c, {1, s0, 8 * s0});
}

// Mirrors SirenImpl (models/siren.hpp). The encoding's gradient step is
// written out by hand (the chain rule through the four layers) rather than
// with torch.autograd.grad: an exported model is for inference, where
// callers run it under no_grad, and hand-written it is an independent check
// of the C++ model's autograd (tests/oracle/test_torch_export.py).
std::string siren_source(const ModelConfig& c) {
  std::ostringstream w0_text;
  w0_text << std::setprecision(17) << c.siren_w0;
  const std::string w0 = "float(" + w0_text.str() + ")";
  std::ostringstream s;
  s << "def siren_input(self, z):\n"
    << "    b = z.size(0)\n"
    << "    e = self.encoding.unsqueeze(0).expand(b, " << c.atoms << ", self.encoding.size(1))\n"
    << "    return torch.cat([e, z.unsqueeze(1).expand(b, " << c.atoms << ", " << c.latent_dim << ")], 2)\n\n"
    << "def decode(self, z):\n"
    << "    h = self.siren_input(z)\n";
  for (int l = 1; l <= 3; ++l)
    s << "    h = torch.sin(" << w0 << " * torch.linear(h, self.decoder__layer" << l << "__weight, self.decoder__layer"
      << l << "__bias))\n";
  s << "    return torch.linear(h, self.decoder__layer4__weight, self.decoder__layer4__bias).permute(0, 2, 1)\n\n"
    << "def encode(self, x):\n"
    << "    h0 = self.siren_input(torch.zeros(x.size(0), " << c.latent_dim << ", dtype=x.dtype))\n"
    << "    a1 = torch.linear(h0, self.decoder__layer1__weight, self.decoder__layer1__bias)\n"
    << "    s1 = torch.sin(" << w0 << " * a1)\n"
    << "    a2 = torch.linear(s1, self.decoder__layer2__weight, self.decoder__layer2__bias)\n"
    << "    s2 = torch.sin(" << w0 << " * a2)\n"
    << "    a3 = torch.linear(s2, self.decoder__layer3__weight, self.decoder__layer3__bias)\n"
    << "    s3 = torch.sin(" << w0 << " * a3)\n"
    << "    y = torch.linear(s3, self.decoder__layer4__weight, self.decoder__layer4__bias)\n"
    // d/dy of each structure's mean over atoms of |y - x|^2
    << "    g = 2.0 * (y - x.permute(0, 2, 1)) / " << c.atoms << ".0\n"
    << "    g = torch.matmul(g, self.decoder__layer4__weight) * " << w0 << " * torch.cos(" << w0 << " * a3)\n"
    << "    g = torch.matmul(g, self.decoder__layer3__weight) * " << w0 << " * torch.cos(" << w0 << " * a2)\n"
    << "    g = torch.matmul(g, self.decoder__layer2__weight) * " << w0 << " * torch.cos(" << w0 << " * a1)\n"
    << "    g = torch.matmul(g, self.decoder__layer1__weight)\n"
    // z reaches every atom's input: its gradient is the sum over atoms
    << "    return -g.narrow(2, self.encoding.size(1), " << c.latent_dim << ").sum(1)\n";
  return s.str();
}

// Mirrors DistanceMatrixAutoencoderImpl (models/distance_matrix_autoencoder.hpp
// documents the layout and names).
std::string distance_matrix_source(const ModelConfig& c) {
  const DistanceMatrixLayout layout = distance_matrix_layout(c);
  const std::size_t levels = layout.channels.size();
  auto level = [](const std::string& x, const std::string& b) {
    return "torch.leaky_relu(" + batch_norm(x, b + "__bn") + ", 0.1)";
  };
  std::ostringstream s;
  s << "def distances(self, p):\n"
    << "    q = (p * p).sum(-1)\n"
    << "    d2 = q.unsqueeze(-1) + q.unsqueeze(-2) - 2.0 * torch.bmm(p, p.transpose(1, 2))\n"
    << "    return d2.clamp_min(1e-12).sqrt()\n\n"
    << "def encode(self, x):\n"
    << "    p = x.transpose(1, 2)\n"
    << "    p = p - p.mean(1, True)\n"
    << "    h = (self.distances(p) * (1.0 - torch.eye(" << c.atoms << ", dtype=p.dtype))).unsqueeze(1)\n";
  for (std::size_t l = 0; l < levels; ++l) {
    const std::string b = "down" + std::to_string(l);
    s << "    h = " << level("torch.conv2d(h, self." + b + "__conv__weight, None, [2, 2], [1, 1])", b) << "\n";
  }
  s << "    return torch.linear(h.mean([2, 3]), self.enc_fc__weight, self.enc_fc__bias)\n\n";
  const std::int64_t side = layout.sides.back();
  s << "def decode(self, z):\n"
    << "    h = torch.linear(z, self.dec_fc__weight, self.dec_fc__bias).view(z.size(0), " << layout.channels.back()
    << ", " << side << ", " << side << ")\n";
  for (std::size_t k = 0; k + 1 < levels; ++k) {
    const std::size_t l = levels - 1 - k;
    const std::string b = "up" + std::to_string(k), pad = std::to_string(layout.sides[l] - 2 * layout.sides[l + 1]);
    s << "    h = "
      << level("torch.conv_transpose2d(h, self." + b + "__conv__weight, None, [2, 2], [1, 1], [" + pad + ", " + pad +
                   "])",
               b)
      << "\n";
  }
  const std::string pad = std::to_string(layout.sides[0] - 2 * layout.sides[1]);
  s << "    h = torch.conv_transpose2d(h, self.head__weight, self.head__bias, [2, 2], [1, 1], [" << pad << ", " << pad
    << "]).squeeze(1)\n"
    // SMACOF from the reference (models/distance_matrix_autoencoder.cpp)
    << "    n = " << c.atoms << "\n"
    << "    off = 1.0 - torch.eye(n, dtype=h.dtype)\n"
    << "    target = torch.softplus(0.5 * (h + h.transpose(1, 2)), 1, 20) * off\n"
    << "    start = self.reference.t()\n"
    << "    p = (start - start.mean(0, True)).unsqueeze(0).expand(z.size(0), n, 3)\n"
    << "    for _ in range(" << c.mds_iterations << "):\n"
    << "        ratio = target / self.distances(p) * off\n"
    << "        p = (ratio.sum(-1, True) * p - torch.bmm(ratio, p)) / float(n)\n"
    << "    return (p.transpose(1, 2) + self.reference.mean(1, True)).contiguous()\n";
  return s.str();
}

}  // namespace

std::string torchscript_source(const ModelConfig& config) {
  if (config.architecture == "conv1d") return conv1d_source(config);
  if (config.architecture == "foldingnet") return foldingnet_source(config);
  if (config.architecture == "small-foldingnet") return small_foldingnet_source(config);
  if (config.architecture == "siren") return siren_source(config);
  if (config.architecture == "cnn2d-dm") return distance_matrix_source(config);
  throw InputError("export of '" + config.architecture + "' models is not available yet");
}

}  // namespace molearn
