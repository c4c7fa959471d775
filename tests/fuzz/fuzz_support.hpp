// Shared part of molearn's libFuzzer targets (docs/reliability.md): the
// readers take paths, so each input is written to a file in a scratch folder
// (in memory, under /dev/shm, when there is one) and handed to the reader.
//
// molearn's typed exceptions (core/error.hpp) are the expected answer to bad
// bytes and are swallowed. Anything else is a finding: another exception type
// escapes LLVMFuzzerTestOneInput and aborts, and crashes, sanitizer reports,
// leaks, timeouts and running out of memory are caught by libFuzzer itself.
#pragma once

#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>

#include "molearn/core/error.hpp"
#include "molearn/io/trajectory_reader.hpp"

namespace molearn::fuzz {

// This process's scratch folder, made on first use and removed at exit (not
// after a crash: scripts/fuzz.sh points $MOLEARN_FUZZ_TMP at a folder of its
// own, removed when it ends): a fresh folder under $MOLEARN_FUZZ_TMP, else
// /dev/shm, else the temp folder.
struct ScratchFolder {
  std::filesystem::path path;
  ScratchFolder() {
    std::filesystem::path base = std::filesystem::temp_directory_path();
    if (const char* env = std::getenv("MOLEARN_FUZZ_TMP"); env && *env)
      base = env;
    else if (::access("/dev/shm", W_OK) == 0)
      base = "/dev/shm";
    std::string name = (base / "molearn-fuzz-XXXXXX").string();
    if (!::mkdtemp(name.data())) {
      std::perror(("molearn fuzz: cannot make a scratch folder in " + base.string()).c_str());
      std::abort();
    }
    path = name;
  }
  ~ScratchFolder() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
};

inline const std::filesystem::path& scratch_folder() {
  static const ScratchFolder folder;
  return folder.path;
}

// Writes `size` bytes to `name` in the scratch folder (or to `name` itself
// when it is an absolute path) and returns its path.
inline std::string write_file(const std::string& name, const std::uint8_t* data, std::size_t size) {
  const std::string path = (scratch_folder() / name).string();
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (!f || (size > 0 && std::fwrite(data, 1, size, f) != size) || std::fclose(f) != 0) {
    std::perror(("molearn fuzz: cannot write " + path).c_str());
    std::abort();
  }
  return path;
}

// Calls each of `reads` with `path`, in order. molearn::Error is the expected
// answer to bad bytes: it is swallowed and does not stop the next call. With
// MOLEARN_FUZZ_VERBOSE=1 in the environment each call says how it ended (to
// check seeds: `fuzz_pdb -runs=0 seeds/pdb`).
template <typename... Read>
void each(const std::string& path, Read&&... reads) {
  static const bool verbose = std::getenv("MOLEARN_FUZZ_VERBOSE") != nullptr;
  auto call = [&](auto& read) {
    try {
      read(path);
      if (verbose) std::fprintf(stderr, "molearn fuzz: accepted\n");
    } catch (const molearn::Error& e) {
      if (verbose) std::fprintf(stderr, "molearn fuzz: %s\n", e.what());
    }
  };
  (call(reads), ...);
}

// The body of a target: writes the input as Target::file and reads it with
// Target::read (fuzz_readers.hpp).
template <typename Target>
int run(const std::uint8_t* data, std::size_t size) {
  Target::read(write_file(Target::file, data, size));
  return 0;
}

// A broken promise of a reader that did not throw: abort, so that libFuzzer
// keeps the input.
inline void check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "molearn fuzz: %s\n", what);
    std::abort();
  }
}

// Reads every frame of a trajectory file through open_trajectory() (the
// format comes from the extension) and checks each frame's size.
inline void read_frames(const std::string& path) {
  auto reader = open_trajectory(path);
  Frame frame;
  std::size_t frames = 0;
  while (reader->read(frame)) {
    check(frame.xyz.size() == 3 * reader->atom_count(), "a frame's size differs from 3 x the atom count");
    ++frames;
  }
  if (const auto count = reader->frame_count()) check(*count == frames, "frame_count() differs from the frames read");
}

// The same file again, skipping every other frame (skip() has its own code
// paths in the binary readers).
inline void skip_frames(const std::string& path) {
  auto reader = open_trajectory(path);
  Frame frame;
  for (std::size_t i = 0;; ++i)
    if (!(i % 2 == 0 ? reader->skip() : reader->read(frame))) break;
}

}  // namespace molearn::fuzz
