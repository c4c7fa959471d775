#include "molearn/core/atomic_file.hpp"

#include <unistd.h>

#include <cstdio>
#include <filesystem>

#include "molearn/core/error.hpp"

namespace molearn {

namespace {

std::string temporary_name(const std::string& final_path) {
  // The temporary file lives in the same folder so that rename() is atomic.
  return final_path + ".tmp." + std::to_string(::getpid());
}

}  // namespace

AtomicFile::AtomicFile(std::string final_path)
    : final_path_(std::move(final_path)), temp_path_(temporary_name(final_path_)) {
  out_.open(temp_path_, std::ios::binary | std::ios::trunc);
  if (!out_) {
    throw OutputError(final_path_ + ": cannot create file (does the folder exist and is it writable?)");
  }
}

AtomicFile::~AtomicFile() {
  if (!done_) discard();
}

void AtomicFile::commit() {
  if (done_) return;
  out_.flush();
  const bool written = static_cast<bool>(out_);
  out_.close();
  if (!written || out_.fail()) {
    discard();
    throw OutputError(final_path_ + ": write failed (disk full or file system error); nothing was written");
  }
  std::error_code ec;
  std::filesystem::rename(temp_path_, final_path_, ec);
  if (ec) {
    discard();
    throw OutputError(final_path_ + ": cannot move the finished file into place: " + ec.message());
  }
  done_ = true;
}

void AtomicFile::discard() {
  if (out_.is_open()) out_.close();
  std::error_code ec;
  std::filesystem::remove(temp_path_, ec);
  done_ = true;
}

}  // namespace molearn
