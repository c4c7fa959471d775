// Shared helpers of the unit tests: temporary folders, reference data paths.
#pragma once

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>

namespace molearn::test {

// A fresh folder removed with everything in it at the end of the test.
class TempDir {
 public:
  TempDir() {
    std::random_device rd;
    path_ = std::filesystem::temp_directory_path() / ("molearn-test-" + std::to_string(rd()) + std::to_string(rd()));
    std::filesystem::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  std::string file(const std::string& name) const { return (path_ / name).string(); }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

inline void write_text(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
}

// The shared reference data: $MOLEARN_DATA, else ../shared/data beside the
// source tree.
inline std::filesystem::path shared_data_dir() {
  if (const char* env = std::getenv("MOLEARN_DATA"); env && *env) return env;
  return MOLEARN_DEFAULT_DATA;
}

inline std::filesystem::path source_dir() { return MOLEARN_SOURCE_DIR; }

}  // namespace molearn::test

// Skips (never passes) a test whose reference data are missing, saying why.
#define MOLEARN_REQUIRE_FILE(path)                                                                   \
  do {                                                                                               \
    if (!std::filesystem::exists(path))                                                              \
      GTEST_SKIP() << "reference data missing: " << (path)                                           \
                   << " (set MOLEARN_DATA to the shared data folder, or install python-mdtraj-doc)"; \
  } while (0)
