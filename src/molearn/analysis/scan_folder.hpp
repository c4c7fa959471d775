// Reading back a folder written by `molearn scan`: scan.json (grid, bounds,
// plane, encoded frames) and one float64 NPY [ny, nx] per landscape. Used by
// `molearn path --scan`, `molearn report --scan` and `molearn gui --scan`.
// No torch.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "molearn/analysis/latent_grid.hpp"

namespace molearn {

struct ScanLandscape {
  std::string name, unit;
  std::vector<double> values;  // row-major [ny][nx]
};

struct ScanData {
  std::string folder;
  std::string checkpoint;  // absolute path of the checkpoint scanned, as recorded
  std::int64_t latent_dim = 0;
  std::string plane;         // scan.json's "plane" as JSON text ("null": the whole 2-D space)
  std::vector<double> x, y;  // grid.x, grid.y
  LatentGrid grid;           // bounds and plane as scanned
  std::vector<ScanLandscape> landscapes;
  std::vector<std::pair<double, double>> encoded_train, encoded_valid;

  // The landscape called `name`, or nullptr.
  const ScanLandscape* find(const std::string& name) const;
};

// Throws InputError (no scan.json) or FormatError naming the file and what
// was expected.
ScanData read_scan(const std::string& folder);

// Throws InputError unless `scan` was made with the checkpoint at
// `checkpoint_path` (same file) and a latent space of `latent_dim`.
void check_scan_matches(const ScanData& scan, const std::string& checkpoint_path, std::int64_t latent_dim);

// Whether two paths name the same file (after resolving links and "..").
bool same_file(const std::string& a, const std::string& b);

}  // namespace molearn
