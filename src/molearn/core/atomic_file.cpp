#include "molearn/core/atomic_file.hpp"

#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <filesystem>

#include "molearn/core/error.hpp"

namespace molearn {

namespace {

std::string temporary_name(const std::string& final_path) {
  // The temporary file lives in the same folder so that rename() is atomic.
  return final_path + ".tmp." + std::to_string(::getpid());
}

// A temporary sibling left by a writer that was killed (kill -9, a node
// lost): named NAME.tmp.PID, its process gone from this host, and untouched
// for a minute (so a writer on another host sharing the folder, whose PID
// means nothing here, is left alone while it writes).
bool is_stale_temporary(const std::filesystem::directory_entry& entry, const std::string& prefix) {
  const std::string name = entry.path().filename().string();
  if (name.size() <= prefix.size() || name.compare(0, prefix.size(), prefix) != 0) return false;
  const std::string digits = name.substr(prefix.size());
  if (digits.size() > 9 || digits.find_first_not_of("0123456789") != std::string::npos) return false;
  const long pid = std::stol(digits);
  if (pid <= 0 || pid == ::getpid()) return false;
  if (::kill(static_cast<pid_t>(pid), 0) == 0 || errno != ESRCH) return false;  // alive, or not ours to probe
  std::error_code ec;
  if (!entry.is_regular_file(ec) || ec) return false;
  const auto modified = entry.last_write_time(ec);
  return !ec && std::filesystem::file_time_type::clock::now() - modified > std::chrono::minutes(1);
}

// Removes the stale temporaries of `final_path`, best effort: they are
// incomplete outputs nobody will finish.
void remove_stale_temporaries(const std::string& final_path) {
  const std::filesystem::path path(final_path);
  const std::filesystem::path folder = path.has_parent_path() ? path.parent_path() : ".";
  const std::string prefix = path.filename().string() + ".tmp.";
  std::error_code ec;
  for (std::filesystem::directory_iterator it(folder, ec), end; !ec && it != end; it.increment(ec))
    if (is_stale_temporary(*it, prefix)) {
      std::error_code ignored;
      std::filesystem::remove(it->path(), ignored);
    }
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
  remove_stale_temporaries(final_path_);
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
    throw OutputError(final_path_ +
                      ": write failed (disk full, a file size limit or a file system error); nothing was written");
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
