#include "molearn/data/npy.hpp"

#include <cstdint>

#include "molearn/core/atomic_file.hpp"

namespace molearn {

namespace {

// `descr` is NumPy's type string, e.g. "<f4".
void write_npy_bytes(const std::string& path, const char* descr, const void* data, std::size_t item_size,
                     const std::vector<std::size_t>& shape) {
  std::string dims;
  std::size_t count = 1;
  for (std::size_t d : shape) {
    dims += std::to_string(d) + ", ";
    count *= d;
  }
  // Python tuple syntax: "(3, 4)", but "(3,)" for one dimension.
  if (shape.size() > 1)
    dims.resize(dims.size() - 2);
  else if (shape.size() == 1)
    dims.resize(dims.size() - 1);
  std::string header = std::string("{'descr': '") + descr + "', 'fortran_order': False, 'shape': (" + dims + "), }";
  // The magic, version and length take 10 bytes; the header ends with '\n'
  // and the whole preamble is padded to a multiple of 64 bytes.
  const std::size_t total = (10 + header.size() + 1 + 63) / 64 * 64;
  header.append(total - 10 - header.size() - 1, ' ');
  header += '\n';
  AtomicFile file(path);
  auto& out = file.stream();
  out.write("\x93NUMPY\x01\x00", 8);
  const std::uint16_t length = static_cast<std::uint16_t>(header.size());
  out.write(reinterpret_cast<const char*>(&length), 2);
  out.write(header.data(), static_cast<std::streamsize>(header.size()));
  out.write(static_cast<const char*>(data), static_cast<std::streamsize>(count * item_size));
  file.commit();
}

}  // namespace

void write_npy(const std::string& path, const float* data, const std::vector<std::size_t>& shape) {
  write_npy_bytes(path, "<f4", data, sizeof(float), shape);
}

void write_npy(const std::string& path, const double* data, const std::vector<std::size_t>& shape) {
  write_npy_bytes(path, "<f8", data, sizeof(double), shape);
}

}  // namespace molearn
