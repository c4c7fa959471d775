#include "molearn/analysis/npy_float64.hpp"

#include <cstdint>
#include <cstring>
#include <fstream>

#include "molearn/core/error.hpp"
#include "molearn/data/npy.hpp"

namespace molearn {

void write_npy_float64(const std::string& path, const std::vector<double>& data,
                       const std::vector<std::size_t>& shape) {
  std::size_t count = 1;
  for (std::size_t d : shape) count *= d;
  if (count != data.size())
    throw OutputError(path + ": " + std::to_string(data.size()) + " values do not fill the array's shape");
  write_npy(path, data.data(), shape);
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
      if (item.size() > 18) throw FormatError(path + ": NPY shape has a size of " + item + " (corrupt header)");
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
  // The shape must fit in the file before it sizes anything.
  const std::streamoff data_start = in.tellg();
  in.seekg(0, std::ios::end);
  const auto available = static_cast<std::uint64_t>(in.tellg() - data_start) / sizeof(double);
  in.seekg(data_start);
  std::uint64_t count = 1;
  for (std::size_t d : result.shape) {
    if (d != 0 && count > available / d)
      throw FormatError(path + ": truncated NPY data (the shape in its header needs more values than the file holds)");
    count *= d;
  }
  result.data.resize(count);
  if (!in.read(reinterpret_cast<char*>(result.data.data()), static_cast<std::streamsize>(count * sizeof(double))))
    throw FormatError(path + ": truncated NPY data (expected " + std::to_string(count) + " float64 values)");
  return result;
}

}  // namespace molearn
