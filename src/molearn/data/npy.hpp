// NumPy .npy export so Python users can load molearn data with numpy.load.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace molearn {

// Writes a C-ordered little-endian float32 array of the given shape
// (NPY format version 1.0), atomically. Throws OutputError.
void write_npy(const std::string& path, const float* data, const std::vector<std::size_t>& shape);

// The same for float64 (e.g. the landscapes of `molearn scan`).
void write_npy(const std::string& path, const double* data, const std::vector<std::size_t>& shape);

}  // namespace molearn
