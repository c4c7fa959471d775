#include "molearn/analysis/npy_float64.hpp"

#include <cstdint>
#include <cstring>
#include <fstream>

#include "molearn/core/atomic_file.hpp"
#include "molearn/core/error.hpp"

namespace molearn {

void write_npy_float64(const std::string& path, const std::vector<double>& data,
                       const std::vector<std::size_t>& shape) {
  std::string dims;
  std::size_t count = 1;
  for (std::size_t d : shape) {
    dims += std::to_string(d) + ", ";
    count *= d;
  }
  if (count != data.size())
    throw OutputError(path + ": " + std::to_string(data.size()) + " values do not fill the array's shape");
  // Python tuple syntax: "(3, 4)", but "(3,)" for one dimension.
  dims.resize(dims.size() - (shape.size() > 1 ? 2 : shape.size() == 1 ? 1 : 0));
  std::string header = "{'descr': '<f8', 'fortran_order': False, 'shape': (" + dims + "), }";
  // Magic, version and length take 10 bytes; the preamble ends with '\n' and
  // is padded to a multiple of 64 bytes.
  const std::size_t total = (10 + header.size() + 1 + 63) / 64 * 64;
  header.append(total - 10 - header.size() - 1, ' ');
  header += '\n';
  AtomicFile file(path);
  auto& out = file.stream();
  out.write("\x93NUMPY\x01\x00", 8);
  const std::uint16_t length = static_cast<std::uint16_t>(header.size());
  out.write(reinterpret_cast<const char*>(&length), 2);
  out.write(header.data(), static_cast<std::streamsize>(header.size()));
  out.write(reinterpret_cast<const char*>(data.data()), static_cast<std::streamsize>(count * sizeof(double)));
  file.commit();
}

namespace {

std::vector<std::size_t> parse_shape(const std::string& header, const std::string& path) {
  const auto open = header.find("'shape': (");
  const auto close = header.find(')', open);
  if (open == std::string::npos || close == std::string::npos) throw FormatError(path + ": NPY header has no shape");
  std::vector<std::size_t> shape;
  std::string item;
  for (char c : header.substr(open + 10, close - open - 10) + ",") {
    if (c == ',') {
      if (!item.empty()) shape.push_back(std::stoul(item));
      item.clear();
    } else if (c >= '0' && c <= '9') {
      item += c;
    } else if (c != ' ') {
      throw FormatError(path + ": NPY shape is not a tuple of sizes");
    }
  }
  return shape;
}

}  // namespace

NpyFloat64 read_npy_float64(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(path + ": cannot open (missing file?)");
  char magic[8];
  std::uint16_t length = 0;
  if (!in.read(magic, 8) || std::memcmp(magic, "\x93NUMPY\x01", 7) != 0 ||
      !in.read(reinterpret_cast<char*>(&length), 2))
    throw FormatError(path + ": not an NPY 1.0 file");
  std::string header(length, '\0');
  if (!in.read(header.data(), length)) throw FormatError(path + ": truncated NPY header");
  if (header.find("'descr': '<f8'") == std::string::npos || header.find("'fortran_order': False") == std::string::npos)
    throw FormatError(path + ": expected a C-ordered little-endian float64 array ('<f8')");
  NpyFloat64 result;
  result.shape = parse_shape(header, path);
  std::size_t count = 1;
  for (std::size_t d : result.shape) count *= d;
  result.data.resize(count);
  if (!in.read(reinterpret_cast<char*>(result.data.data()), static_cast<std::streamsize>(count * sizeof(double))))
    throw FormatError(path + ": truncated NPY data (expected " + std::to_string(count) + " float64 values)");
  return result;
}

}  // namespace molearn
