#include "molearn/models/folding_layer_onednn.hpp"

#include "molearn/models/onednn_conv_chain.hpp"
#include "molearn/models/onednn_memory.hpp"

#include <ATen/Parallel.h>

#include <map>
#include <memory>
#include <mutex>
#include <tuple>

namespace molearn::onednn {
namespace {

using dnnl::memory;
using Tag = memory::format_tag;
using Type = memory::data_type;
using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

dnnl::engine& cpu() { return cpu_engine(); }

// ---- primitives of one layer shape -----------------------------------------

struct ConvPlan {
  dnnl::convolution_forward::primitive_desc forward;
  dnnl::convolution_backward_data::primitive_desc backward_data;
  dnnl::convolution_backward_weights::primitive_desc backward_weights;
};

struct NormPlan {
  dnnl::batch_normalization_forward::primitive_desc forward;
  dnnl::batch_normalization_backward::primitive_desc backward;
};

// Every primitive descriptor of the chain for one shape. oneDNN chooses the
// blocked layouts (format_tag::any). A plan is a function of the shape
// alone, so backward looks up the plan forward used.
struct Plan {
  ConvPlan conv[3];
  NormPlan norm[2];
};

struct Shape {
  std::int64_t batch, in, hidden, out, length;
  Type type;
  float eps1, eps2;
  // oneDNN's batch norm splits its reductions over the threads it sees when
  // its primitive descriptor is made and must run on as many: a plan made
  // for 2 threads and run on 1 skipped half of the sums (found by the tests,
  // whose first plan was made before libtorch set its thread count).
  int threads = current_threads();
  auto key() const {
    return std::make_tuple(batch, in, hidden, out, length, static_cast<int>(type), eps1, eps2, threads);
  }
  // Libtorch's intra-op threads in this thread (OpenMP, which oneDNN runs
  // on); asking also makes libtorch settle its thread count first.
  static int current_threads() { return at::get_num_threads(); }
};

// Convolutions are 2-D with height 1, as libtorch runs Conv1d: oneDNN 2.6's
// optimised batch norms take only 4-D tensors (3-D ones fall back to its
// reference code, measured 10x slower).
ConvPlan make_conv(std::int64_t batch, std::int64_t in, std::int64_t out, std::int64_t length, Type type) {
  const memory::dims strides{1, 1}, padding{0, 1};  // kernel 1 x 3, "same" length
  const memory::desc src({batch, in, 1, length}, type, Tag::any);
  const memory::desc dst({batch, out, 1, length}, type, Tag::any);
  const memory::desc weights({out, in, 1, 3}, type, Tag::any);
  // Weights' gradients in fp32 under bf16 too: they go to fp32 master weights.
  const memory::desc weights_grad({out, in, 1, 3}, Type::f32, Tag::any);
  const memory::desc bias({out}, Type::f32, Tag::x);
  const auto direct = dnnl::algorithm::convolution_direct;
  ConvPlan plan;
  plan.forward = {{dnnl::prop_kind::forward_training, direct, src, weights, bias, dst, strides, padding, padding},
                  cpu()};
  plan.backward_data = {{direct, src, weights, dst, strides, padding, padding}, cpu(), plan.forward};
  plan.backward_weights = {{direct, src, weights_grad, bias, dst, strides, padding, padding}, cpu(), plan.forward};
  return plan;
}

NormPlan make_norm(const memory::desc& data, float eps) {
  // The ReLU after the batch norm is fused: oneDNN keeps its mask in a
  // workspace for the backward pass.
  // Scale and shift as one [2, C] array: oneDNN 2.6's optimised kernels take
  // them that way (separate use_scale/use_shift fall back to its reference code).
  const auto flags = dnnl::normalization_flags::use_scale_shift | dnnl::normalization_flags::fuse_norm_relu;
  NormPlan plan;
  plan.forward = {{dnnl::prop_kind::forward_training, data, eps, flags}, cpu()};
  plan.backward = {{dnnl::prop_kind::backward, data, data, eps, flags}, cpu(), plan.forward};
  return plan;
}

std::shared_ptr<const Plan> make_plan(const Shape& s) {
  auto plan = std::make_shared<Plan>();
  plan->conv[0] = make_conv(s.batch, s.in, s.hidden, s.length, s.type);
  plan->norm[0] = make_norm(plan->conv[0].forward.dst_desc(), s.eps1);
  plan->conv[1] = make_conv(s.batch, s.hidden, s.hidden, s.length, s.type);
  plan->norm[1] = make_norm(plan->conv[1].forward.dst_desc(), s.eps2);
  plan->conv[2] = make_conv(s.batch, s.hidden, s.out, s.length, s.type);
  return plan;
}

// Building a plan costs about as much as a small convolution; training
// repeats a handful of shapes (eight layers, a last smaller batch).
std::shared_ptr<const Plan> plan_for(const Shape& shape) {
  static std::mutex mutex;
  static std::map<decltype(shape.key()), std::shared_ptr<const Plan>> plans;
  std::lock_guard<std::mutex> lock(mutex);
  const auto key = shape.key();
  if (const auto it = plans.find(key); it != plans.end()) return it->second;
  if (plans.size() >= 256) plans.clear();  // bounded, whatever the caller varies
  return plans[key] = make_plan(shape);
}

// ---- the steps ---------------------------------------------------------------

struct Normalised {
  Buffer dst, workspace;
  torch::Tensor mean, variance;  // of this batch; variance biased
};

Normalised norm_forward(dnnl::stream& stream, const NormPlan& plan, const Buffer& src, const torch::Tensor& scale,
                        const torch::Tensor& shift) {
  const auto& pd = plan.forward;
  Normalised r;
  r.dst = allocate(pd.dst_desc());
  r.workspace = allocate(pd.workspace_desc());
  r.mean = torch::empty({scale.size(0)}, torch::kFloat32);
  r.variance = torch::empty({scale.size(0)}, torch::kFloat32);
  const auto mean = bind(pd.mean_desc(), r.mean), variance = bind(pd.variance_desc(), r.variance);
  const auto scale_shift = plain(torch::stack({scale.detach(), shift.detach()}).contiguous());
  dnnl::batch_normalization_forward(pd).execute(stream, {{DNNL_ARG_SRC, src.mem},
                                                         {DNNL_ARG_DST, r.dst.mem},
                                                         {DNNL_ARG_MEAN, mean.mem},
                                                         {DNNL_ARG_VARIANCE, variance.mem},
                                                         {DNNL_ARG_SCALE_SHIFT, scale_shift.mem},
                                                         {DNNL_ARG_WORKSPACE, r.workspace.mem}});
  stream.wait();
  return r;
}

struct ConvGrads {
  Buffer src;            // gradient of the input, blocked (empty unless asked)
  torch::Tensor weight;  // [out, in, 3], fp32
  torch::Tensor bias;    // [out], fp32
};

ConvGrads conv_backward(dnnl::stream& stream, const ConvPlan& plan, const Buffer& src, const Buffer& dst_grad,
                        const torch::Tensor& weight, bool input_grad) {
  ConvGrads g;
  const auto& wpd = plan.backward_weights;
  const auto w_src = convert(stream, src, wpd.src_desc());
  const auto w_dst_grad = convert(stream, dst_grad, wpd.diff_dst_desc());
  auto weight_grad = allocate(wpd.diff_weights_desc());
  g.bias = torch::empty({weight.size(0)}, torch::kFloat32);
  const auto bias_grad = plain(g.bias);
  dnnl::convolution_backward_weights(wpd).execute(stream, {{DNNL_ARG_SRC, w_src.mem},
                                                           {DNNL_ARG_DIFF_DST, w_dst_grad.mem},
                                                           {DNNL_ARG_DIFF_WEIGHTS, weight_grad.mem},
                                                           {DNNL_ARG_DIFF_BIAS, bias_grad.mem}});
  g.weight = to_torch(stream, weight_grad, weight.sizes(), torch::kFloat32);
  if (input_grad) {
    const auto& dpd = plan.backward_data;
    const auto weights = convert(stream, plain(weight.detach()), dpd.weights_desc());
    const auto d_dst_grad = convert(stream, w_dst_grad, dpd.diff_dst_desc());
    g.src = allocate(dpd.diff_src_desc());
    dnnl::convolution_backward_data(dpd).execute(
        stream, {{DNNL_ARG_DIFF_DST, d_dst_grad.mem}, {DNNL_ARG_WEIGHTS, weights.mem}, {DNNL_ARG_DIFF_SRC, g.src.mem}});
  }
  stream.wait();
  return g;
}

struct NormGrads {
  Buffer src;
  torch::Tensor scale, shift;
};

NormGrads norm_backward(dnnl::stream& stream, const NormPlan& plan, const Buffer& src, const Buffer& workspace,
                        const torch::Tensor& mean, const torch::Tensor& variance, const torch::Tensor& scale,
                        const torch::Tensor& shift, const Buffer& dst_grad) {
  const auto& pd = plan.backward;
  NormGrads g;
  const auto diff_dst = convert(stream, dst_grad, pd.diff_dst_desc());
  g.src = allocate(pd.diff_src_desc());
  const auto m = bind(pd.mean_desc(), mean), v = bind(pd.variance_desc(), variance);
  const auto scale_shift = plain(torch::stack({scale.detach(), shift.detach()}).contiguous());
  auto grads = torch::empty({2, mean.size(0)}, torch::kFloat32);
  const auto scale_shift_grad = plain(grads);
  dnnl::batch_normalization_backward(pd).execute(stream, {{DNNL_ARG_SRC, src.mem},
                                                          {DNNL_ARG_MEAN, m.mem},
                                                          {DNNL_ARG_VARIANCE, v.mem},
                                                          {DNNL_ARG_DIFF_DST, diff_dst.mem},
                                                          {DNNL_ARG_SCALE_SHIFT, scale_shift.mem},
                                                          {DNNL_ARG_WORKSPACE, workspace.mem},
                                                          {DNNL_ARG_DIFF_SRC, g.src.mem},
                                                          {DNNL_ARG_DIFF_SCALE_SHIFT, scale_shift_grad.mem}});
  stream.wait();
  g.scale = grads[0];
  g.shift = grads[1];
  return g;
}

// ---- the autograd function -----------------------------------------------------

// Saved blocked buffers, by name; their layouts are the plan's.
constexpr const char* kSaved[] = {"src1", "y1", "ws1", "src2", "y2", "ws2", "src3"};

struct FoldingLayerFunction : public torch::autograd::Function<FoldingLayerFunction> {
  // Tensor arguments are those autograd differentiates; the batch norms are
  // passed for their running statistics only.
  static torch::Tensor forward(AutogradContext* ctx, torch::Tensor x, torch::Tensor w1, torch::Tensor b1,
                               torch::Tensor g1, torch::Tensor s1, torch::Tensor w2, torch::Tensor b2, torch::Tensor g2,
                               torch::Tensor s2, torch::Tensor w3, torch::Tensor b3, BatchNormImpl* bn1,
                               BatchNormImpl* bn2, Shape shape, torch::ScalarType out_type) {
    const auto plan = plan_for(shape);
    dnnl::stream stream(cpu());
    const auto src1 = convert(stream, plain(x.detach()), plan->conv[0].forward.src_desc());
    const auto y1 = conv_forward(stream, plan->conv[0].forward, src1, w1, b1);
    const auto n1 = norm_forward(stream, plan->norm[0], y1, g1, s1);
    const auto src2 = convert(stream, n1.dst, plan->conv[1].forward.src_desc());
    const auto y2 = conv_forward(stream, plan->conv[1].forward, src2, w2, b2);
    const auto n2 = norm_forward(stream, plan->norm[1], y2, g2, s2);
    const auto src3 = convert(stream, n2.dst, plan->conv[2].forward.src_desc());
    const auto y3 = conv_forward(stream, plan->conv[2].forward, src3, w3, b3);
    auto out = to_torch(stream, y3, {shape.batch, shape.out, shape.length}, out_type);
    stream.wait();

    const std::int64_t count = shape.batch * shape.length;
    bn1->record_batch_statistics(n1.mean, n1.variance, count);
    bn2->record_batch_statistics(n2.mean, n2.variance, count);

    const Buffer* saved[] = {&src1, &y1, &n1.workspace, &src2, &y2, &n2.workspace, &src3};
    for (std::size_t i = 0; i < std::size(kSaved); ++i) ctx->saved_data[kSaved[i]] = saved[i]->storage;
    ctx->saved_data["mean1"] = n1.mean;
    ctx->saved_data["var1"] = n1.variance;
    ctx->saved_data["mean2"] = n2.mean;
    ctx->saved_data["var2"] = n2.variance;
    ctx->saved_data["shape"] = std::vector<std::int64_t>{shape.batch,
                                                         shape.in,
                                                         shape.hidden,
                                                         shape.out,
                                                         shape.length,
                                                         static_cast<std::int64_t>(shape.type),
                                                         static_cast<std::int64_t>(x.scalar_type()),
                                                         shape.threads};
    ctx->saved_data["eps"] = std::vector<double>{shape.eps1, shape.eps2};
    ctx->save_for_backward({w1, g1, s1, w2, g2, s2, w3});
    return out;
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    const auto dims = ctx->saved_data["shape"].toIntVector();
    const auto eps = ctx->saved_data["eps"].toDoubleVector();
    const Shape shape{dims[0],
                      dims[1],
                      dims[2],
                      dims[3],
                      dims[4],
                      static_cast<Type>(dims[5]),
                      static_cast<float>(eps[0]),
                      static_cast<float>(eps[1]),
                      static_cast<int>(dims[7])};
    TORCH_CHECK(shape.threads == Shape::current_threads(), "oneDNN folding layer: backward on ",
                Shape::current_threads(), " threads after a forward on ", shape.threads);
    const auto x_type = static_cast<torch::ScalarType>(dims[6]);
    const auto plan = plan_for(shape);
    const auto saved = ctx->get_saved_variables();
    const auto &w1 = saved[0], &g1 = saved[1], &s1 = saved[2], &w2 = saved[3], &g2 = saved[4], &s2 = saved[5],
               &w3 = saved[6];
    auto buffer = [&](const char* name, const memory::desc& desc) {
      return bind(desc, ctx->saved_data[name].toTensor());
    };
    const auto tensor = [&](const char* name) { return ctx->saved_data[name].toTensor(); };

    dnnl::stream stream(cpu());
    const auto& c = plan->conv;
    const auto& n = plan->norm;
    const auto grad_out = plain(grads[0].to(shape.type == Type::bf16 ? torch::kBFloat16 : torch::kFloat32));
    const auto c3 = conv_backward(stream, c[2], buffer("src3", c[2].forward.src_desc()), grad_out, w3, true);
    const auto n2 =
        norm_backward(stream, n[1], buffer("y2", n[1].forward.src_desc()), buffer("ws2", n[1].forward.workspace_desc()),
                      tensor("mean2"), tensor("var2"), g2, s2, c3.src);
    const auto c2 = conv_backward(stream, c[1], buffer("src2", c[1].forward.src_desc()), n2.src, w2, true);
    const auto n1 =
        norm_backward(stream, n[0], buffer("y1", n[0].forward.src_desc()), buffer("ws1", n[0].forward.workspace_desc()),
                      tensor("mean1"), tensor("var1"), g1, s1, c2.src);
    const bool x_grad = ctx->needs_input_grad(0);
    const auto c1 = conv_backward(stream, c[0], buffer("src1", c[0].forward.src_desc()), n1.src, w1, x_grad);
    torch::Tensor dx;
    if (x_grad) dx = to_torch(stream, c1.src, {shape.batch, shape.in, shape.length}, x_type);
    stream.wait();
    // x, w1, b1, g1, s1, w2, b2, g2, s2, w3, b3, then the non-tensor arguments
    return {dx,       c1.weight, c1.bias, n1.scale, n1.shift, c2.weight, c2.bias, n2.scale,
            n2.shift, c3.weight, c3.bias, {},       {},       {},        {}};
  }
};

}  // namespace

bool folding_layer_supported(std::int64_t in_channels, std::int64_t hidden, std::int64_t out_channels,
                             torch::ScalarType dtype) {
  static std::mutex mutex;
  static std::map<std::tuple<std::int64_t, std::int64_t, std::int64_t, int>, bool> known;
  std::lock_guard<std::mutex> lock(mutex);
  const auto key = std::make_tuple(in_channels, hidden, out_channels, static_cast<int>(dtype));
  if (auto it = known.find(key); it != known.end()) return it->second;
  bool ok = dtype == torch::kFloat32 || dtype == torch::kBFloat16;
  if (ok) try {
      make_plan({2, in_channels, hidden, out_channels, 16, onednn_type(dtype), 1e-5f, 1e-5f});
    } catch (const dnnl::error&) {
      ok = false;
    }
  return known[key] = ok;
}

torch::Tensor folding_layer_training(const torch::Tensor& x, const FoldingLayerParameters& layer,
                                     torch::ScalarType dtype) {
  TORCH_CHECK(x.dim() == 3, "oneDNN folding layer: input must be [B, C, N]");
  const Shape shape{
      x.size(0), x.size(1),          layer.conv1->weight.size(0),          layer.conv3->weight.size(0),
      x.size(2), onednn_type(dtype), static_cast<float>(layer.bn1->eps()), static_cast<float>(layer.bn2->eps())};
  return FoldingLayerFunction::apply(x, layer.conv1->weight, layer.conv1->bias, layer.bn1->weight, layer.bn1->bias,
                                     layer.conv2->weight, layer.conv2->bias, layer.bn2->weight, layer.bn2->bias,
                                     layer.conv3->weight, layer.conv3->bias, layer.bn1.ptr().get(),
                                     layer.bn2.ptr().get(), shape, dtype);
}

}  // namespace molearn::onednn
