// float64 NPY files for the landscapes of `molearn scan` (written by
// data/npy.hpp after a shape check), and reading them back for `molearn path
// --scan`.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace molearn {

// Writes a C-ordered little-endian float64 array (NPY 1.0), atomically.
// Throws OutputError.
void write_npy_float64(const std::string& path, const std::vector<double>& data, const std::vector<std::size_t>& shape);

struct NpyFloat64 {
  std::vector<std::size_t> shape;
  std::vector<double> data;  // C order
};

// Reads a little-endian float64, C-ordered NPY file (as written above or by
// numpy.save). Throws InputError (missing) or FormatError naming the file.
NpyFloat64 read_npy_float64(const std::string& path);

}  // namespace molearn
