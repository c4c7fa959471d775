#include "molearn/models/onednn_conv_chain.hpp"

#include <ATen/Parallel.h>

#include <map>
#include <memory>
#include <mutex>

namespace molearn::onednn {
namespace {

using dnnl::memory;
using Tag = memory::format_tag;
using Type = memory::data_type;
using ConvPd = dnnl::convolution_forward::primitive_desc;

// One link of a chain's shape: channels in and out, kernel, ReLU.
struct LinkShape {
  std::int64_t in, out, kernel;
  bool relu;
};

ConvPd make_conv(std::int64_t batch, std::int64_t length, const LinkShape& link, Type type, Type dst_type) {
  const memory::dims strides{1, 1}, padding{0, (link.kernel - 1) / 2};
  const memory::desc src({batch, link.in, 1, length}, type, Tag::any);
  const memory::desc dst({batch, link.out, 1, length}, dst_type, Tag::any);
  const memory::desc weights({link.out, link.in, 1, link.kernel}, type, Tag::any);
  const memory::desc bias({link.out}, Type::f32, Tag::x);
  dnnl::primitive_attr attr;
  if (link.relu) {
    dnnl::post_ops ops;
    ops.append_eltwise(1.0f, dnnl::algorithm::eltwise_relu, 0.0f, 0.0f);
    attr.set_post_ops(ops);
  }
  return {{dnnl::prop_kind::forward_inference, dnnl::algorithm::convolution_direct, src, weights, bias, dst, strides,
           padding, padding},
          attr,
          cpu_engine()};
}

std::vector<LinkShape> shapes_of(std::int64_t in, const std::vector<ChainLink>& links) {
  std::vector<LinkShape> shapes;
  for (const auto& link : links) {
    const auto& w = link.conv.weight;
    TORCH_CHECK(w.dim() == 3 && w.size(1) == in && w.size(2) % 2 == 1, "oneDNN chain: weights ", w.sizes(),
                " do not take ", in, " channels with an odd kernel");
    shapes.push_back({in, w.size(0), w.size(2), link.relu});
    in = w.size(0);
  }
  return shapes;
}

// Building the primitive descriptors costs about as much as a small
// convolution; encoding and decoding repeat a handful of shapes. Plans are
// also keyed by libtorch's thread count, which oneDNN may fix when a plan
// is made (it does for batch norm: models/folding_layer_onednn.cpp).
std::shared_ptr<const std::vector<ConvPd>> plan_for(std::int64_t batch, std::int64_t length,
                                                    const std::vector<LinkShape>& shapes, Type type, Type out_type) {
  std::vector<std::int64_t> key{batch, length, static_cast<std::int64_t>(type), static_cast<std::int64_t>(out_type),
                                at::get_num_threads()};
  for (const auto& s : shapes) key.insert(key.end(), {s.in, s.out, s.kernel, s.relu});
  static std::mutex mutex;
  static std::map<std::vector<std::int64_t>, std::shared_ptr<const std::vector<ConvPd>>> plans;
  std::lock_guard<std::mutex> lock(mutex);
  if (const auto it = plans.find(key); it != plans.end()) return it->second;
  if (plans.size() >= 256) plans.clear();  // bounded, whatever the caller varies
  auto plan = std::make_shared<std::vector<ConvPd>>();
  for (std::size_t i = 0; i < shapes.size(); ++i)
    plan->push_back(make_conv(batch, length, shapes[i], type, i + 1 == shapes.size() ? out_type : type));
  return plans[key] = plan;
}

}  // namespace

Buffer conv_forward(dnnl::stream& stream, const ConvPd& pd, const Buffer& src, const torch::Tensor& weight,
                    const torch::Tensor& bias) {
  const auto weights = convert(stream, plain(weight.detach()), pd.weights_desc());
  const auto b = plain(bias.detach());
  auto dst = allocate(pd.dst_desc());
  dnnl::convolution_forward(pd).execute(
      stream,
      {{DNNL_ARG_SRC, src.mem}, {DNNL_ARG_WEIGHTS, weights.mem}, {DNNL_ARG_BIAS, b.mem}, {DNNL_ARG_DST, dst.mem}});
  stream.wait();  // the weights' converted copy dies here
  return dst;
}

bool float_or_bf16(torch::ScalarType type) { return type == torch::kFloat32 || type == torch::kBFloat16; }

bool conv_chain_supported(std::int64_t in_channels, const std::vector<ChainLink>& links, torch::ScalarType dtype,
                          torch::ScalarType out_type) {
  if (!float_or_bf16(dtype) || !float_or_bf16(out_type)) return false;
  static std::mutex mutex;
  static std::map<std::vector<std::int64_t>, bool> known;
  const auto shapes = shapes_of(in_channels, links);
  std::vector<std::int64_t> key{static_cast<std::int64_t>(dtype), static_cast<std::int64_t>(out_type)};
  for (const auto& s : shapes) key.insert(key.end(), {s.in, s.out, s.kernel, s.relu});
  std::lock_guard<std::mutex> lock(mutex);
  if (const auto it = known.find(key); it != known.end()) return it->second;
  bool ok = true;
  try {
    for (std::size_t i = 0; i < shapes.size(); ++i)
      make_conv(2, 16, shapes[i], onednn_type(dtype), onednn_type(i + 1 == shapes.size() ? out_type : dtype));
  } catch (const dnnl::error&) {
    ok = false;
  }
  return known[key] = ok;
}

torch::Tensor conv_chain_inference(const torch::Tensor& x, const std::vector<ChainLink>& links, torch::ScalarType dtype,
                                   torch::ScalarType out_type) {
  TORCH_CHECK(x.dim() == 3, "oneDNN chain: input must be [B, C, N]");
  TORCH_CHECK(!links.empty(), "oneDNN chain: no convolutions");
  TORCH_CHECK(float_or_bf16(dtype) && float_or_bf16(out_type), "oneDNN chain: fp32 or bf16 only, got ", dtype, " and ",
              out_type);
  const auto shapes = shapes_of(x.size(1), links);
  const auto plan = plan_for(x.size(0), x.size(2), shapes, onednn_type(dtype), onednn_type(out_type));
  dnnl::stream stream(cpu_engine());
  auto h = plain(x.detach());
  for (std::size_t i = 0; i < links.size(); ++i)
    h = conv_forward(stream, (*plan)[i], convert(stream, h, (*plan)[i].src_desc()), links[i].conv.weight,
                     links[i].conv.bias);
  return to_torch(stream, h, {x.size(0), shapes.back().out, x.size(2)}, out_type);
}

}  // namespace molearn::onednn
