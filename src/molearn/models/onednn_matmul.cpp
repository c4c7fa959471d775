#include "molearn/models/onednn_matmul.hpp"

#include "molearn/models/onednn_engine.hpp"

namespace molearn::onednn {

namespace {

dnnl::memory::desc strided_desc(const torch::Tensor& t) {
  return {{t.size(0), t.size(1)}, dnnl::memory::data_type::f32, {t.stride(0), t.stride(1)}};
}

}  // namespace

torch::Tensor matmul(const torch::Tensor& a, const torch::Tensor& b) {
  TORCH_CHECK(a.dim() == 2 && b.dim() == 2 && a.size(1) == b.size(0), "onednn::matmul: shapes ", a.sizes(), " and ",
              b.sizes(), " do not multiply");
  TORCH_CHECK(a.scalar_type() == torch::kFloat32 && b.scalar_type() == torch::kFloat32,
              "onednn::matmul: float32 operands expected");
  auto out = torch::empty({a.size(0), b.size(1)}, a.options());
  const auto a_desc = strided_desc(a), b_desc = strided_desc(b), out_desc = strided_desc(out);
  // oneDNN's primitive cache makes rebuilding the primitive for a repeated
  // shape cheap.
  const dnnl::matmul::primitive_desc pd({a_desc, b_desc, out_desc}, cpu_engine());
  dnnl::memory a_mem(a_desc, cpu_engine(), a.data_ptr()), b_mem(b_desc, cpu_engine(), b.data_ptr()),
      out_mem(out_desc, cpu_engine(), out.data_ptr());
  dnnl::stream stream(cpu_engine());
  dnnl::matmul(pd).execute(stream, {{DNNL_ARG_SRC, a_mem}, {DNNL_ARG_WEIGHTS, b_mem}, {DNNL_ARG_DST, out_mem}});
  stream.wait();
  return out;
}

}  // namespace molearn::onednn
