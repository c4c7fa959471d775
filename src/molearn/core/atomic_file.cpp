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

void check_regular_output(const std::string& path) {
  std::error_code ec;
  const auto status = std::filesystem::symlink_status(path, ec);
  if (ec || !std::filesystem::exists(status)) return;
  if (!std::filesystem::is_regular_file(status))
    throw OutputError(path +
                      ": exists and is not a regular file (a folder, device, FIFO or symbolic link); "
                      "molearn writes results only to new or regular files");
}

void check_output_is_not_input(const std::string& output, const std::vector<std::string>& inputs) {
  for (const std::string& input : inputs) {
    std::error_code ec;
    if (!input.empty() && std::filesystem::equivalent(output, input, ec) && !ec)
      throw InputError(output + ": is also an input (" + input + "); writing it would destroy that input");
  }
}

AtomicFile::AtomicFile(std::string final_path)
    : final_path_(std::move(final_path)), temp_path_(temporary_name(final_path_)) {
  check_regular_output(final_path_);
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
