#include "molearn/models/onednn_memory.hpp"

namespace molearn::onednn {

using dnnl::memory;
using Tag = memory::format_tag;

memory::data_type onednn_type(torch::ScalarType type) {
  return type == torch::kBFloat16 ? memory::data_type::bf16 : memory::data_type::f32;
}

Buffer allocate(const memory::desc& desc) {
  auto storage = torch::empty({static_cast<std::int64_t>(desc.get_size())}, torch::kUInt8);
  return {memory(desc, cpu_engine(), storage.data_ptr()), storage};
}

Buffer bind(const memory::desc& desc, const torch::Tensor& storage) {
  return {memory(desc, cpu_engine(), storage.data_ptr()), storage};
}

Buffer plain(const torch::Tensor& tensor) {
  auto t = tensor.contiguous();
  memory::dims dims;
  for (std::int64_t d = 0; d < t.dim(); ++d) {
    if (t.dim() == 3 && d == 2) dims.push_back(1);  // the height Conv1d runs at
    dims.push_back(t.size(d));
  }
  const Tag tag = dims.size() == 1 ? Tag::a : dims.size() == 2 ? Tag::ab : dims.size() == 4 ? Tag::abcd : Tag::undef;
  TORCH_CHECK(tag != Tag::undef, "oneDNN: unexpected tensor rank ", t.dim());
  return bind(memory::desc(dims, onednn_type(t.scalar_type()), tag), t);
}

Buffer convert(dnnl::stream& stream, const Buffer& from, const memory::desc& desc) {
  if (from.mem.get_desc() == desc) return from;
  auto to = allocate(desc);
  auto src = from.mem;  // a handle: execute takes it by non-const reference
  dnnl::reorder(src, to.mem).execute(stream, src, to.mem);
  return to;
}

torch::Tensor to_torch(dnnl::stream& stream, const Buffer& from, torch::IntArrayRef sizes, torch::ScalarType type) {
  auto tensor = torch::empty(sizes, torch::TensorOptions().dtype(type));
  auto to = plain(tensor);
  auto src = from.mem;
  dnnl::reorder(src, to.mem).execute(stream, src, to.mem);
  stream.wait();  // before `from` may be freed
  return tensor;
}

}  // namespace molearn::onednn
