// Replays the inputs that once broke a reader (tests/fuzz/regressions/
// <target>/, one file each, added with the fix) as the fuzz target read them,
// inside a GoogleTest test: a molearn::Error is fine, any other exception
// fails the test, and under scripts/sanitize.sh so does any memory error,
// leak or undefined behaviour.
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <set>
#include <string>

#include "fuzz_readers.hpp"

namespace molearn::fuzz {

template <typename Target>
void replay_regressions() {
  const std::filesystem::path folder =
      std::filesystem::path(MOLEARN_SOURCE_DIR) / "tests/fuzz/regressions" / Target::name;
  if (!std::filesystem::is_directory(folder)) return;  // none yet
  std::set<std::filesystem::path> inputs;              // in a fixed order
  for (const auto& entry : std::filesystem::directory_iterator(folder))
    if (entry.is_regular_file()) inputs.insert(entry.path());
  for (const std::filesystem::path& input : inputs) {
    SCOPED_TRACE(input.string());
    std::ifstream in(input, std::ios::binary);
    const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    Target::read(write_file(Target::file, reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size()));
  }
}

}  // namespace molearn::fuzz
