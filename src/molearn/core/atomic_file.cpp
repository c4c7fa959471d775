#include "molearn/core/atomic_file.hpp"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>

#include "molearn/core/error.hpp"

namespace molearn {

namespace {

std::string temporary_name(const std::string& final_path) {
  // The temporary file lives in the same folder so that rename() is atomic.
  return final_path + ".tmp." + std::to_string(::getpid());
}

// A temporary sibling left by a writer that was killed (kill -9, a node
// lost): named NAME.tmp.PID (or NAME.old.PID, a staged folder's previous
// copy moved aside), a file or a folder, its process gone from this host,
// and untouched for a minute (so a writer on another host sharing the
// folder, whose PID means nothing here, is left alone while it writes).
// Whether `name` is final_name + one of `kinds` + the PID of a process no
// longer running on this host.
bool names_a_dead_writer(const std::string& name, const std::string& final_name,
                         std::initializer_list<const char*> kinds) {
  std::string digits;
  for (const char* kind : kinds) {
    const std::string prefix = final_name + kind;
    if (name.size() > prefix.size() && name.compare(0, prefix.size(), prefix) == 0) digits = name.substr(prefix.size());
  }
  if (digits.empty() || digits.size() > 9 || digits.find_first_not_of("0123456789") != std::string::npos) return false;
  const long pid = std::stol(digits);
  if (pid <= 0 || pid == ::getpid()) return false;
  // ESRCH: no such process. Success or EPERM (another user's): running.
  return ::kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH;
}

bool is_stale_temporary(const std::filesystem::directory_entry& entry, const std::string& final_name) {
  if (!names_a_dead_writer(entry.path().filename().string(), final_name, {".tmp.", ".old."})) return false;
  std::error_code ec;
  const auto status = entry.symlink_status(ec);  // a symbolic link is never ours to follow
  if (ec || !(std::filesystem::is_regular_file(status) || std::filesystem::is_directory(status))) return false;
  const auto modified = entry.last_write_time(ec);
  return !ec && std::filesystem::file_time_type::clock::now() - modified > std::chrono::minutes(1);
}

// Pushes a file's (or a folder's) data to the disk. Without it, after a
// crash or a power cut, a file system that delays allocation (ext4, XFS) can
// show the renamed name with no data: a checkpoint of 0 bytes where the
// previous good one was. Returns false only on an error that means the data
// are not safe (EIO, ENOSPC, EDQUOT); a file system that cannot sync (EINVAL)
// is not an error.
bool sync_to_disk(const std::string& path, int flags) {
  const int fd = ::open(path.c_str(), flags | O_CLOEXEC);
  if (fd < 0) return true;  // nothing more this can do; the write itself succeeded
  const int result = ::fsync(fd);
  const int error = errno;
  ::close(fd);
  errno = error;  // for the caller's message
  return result == 0 || error == EINVAL || error == EROFS;
}

}  // namespace

void remove_stale_temporaries(const std::string& final_path) {
  const std::filesystem::path path(final_path);
  const std::filesystem::path folder = path.has_parent_path() ? path.parent_path() : ".";
  std::error_code ec;
  for (std::filesystem::directory_iterator it(folder, ec), end; !ec && it != end; it.increment(ec))
    if (is_stale_temporary(*it, path.filename().string())) {
      std::error_code ignored;
      std::filesystem::remove_all(it->path(), ignored);
    }
}

std::vector<std::string> abandoned_temporaries(const std::string& final_path) {
  const std::filesystem::path path(final_path);
  const std::filesystem::path folder = path.has_parent_path() ? path.parent_path() : ".";
  std::vector<std::pair<std::filesystem::file_time_type, std::string>> found;
  std::error_code ec;
  for (std::filesystem::directory_iterator it(folder, ec), end; !ec && it != end; it.increment(ec)) {
    std::error_code entry_ec;
    if (!names_a_dead_writer(it->path().filename().string(), path.filename().string(), {".tmp."}) ||
        !std::filesystem::is_regular_file(it->symlink_status(entry_ec)) || entry_ec)
      continue;
    const auto modified = it->last_write_time(entry_ec);
    if (!entry_ec) found.emplace_back(modified, it->path().string());
  }
  std::sort(found.begin(), found.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
  std::vector<std::string> paths;
  for (auto& [time, name] : found) paths.push_back(std::move(name));
  return paths;
}

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
  if (!sync_to_disk(temp_path_, O_RDONLY)) {
    discard();
    throw OutputError(final_path_ + ": the disk did not accept the data (" + std::strerror(errno) +
                      "); nothing was written");
  }
  std::error_code ec;
  std::filesystem::rename(temp_path_, final_path_, ec);
  if (ec) {
    discard();
    throw OutputError(final_path_ + ": cannot move the finished file into place: " + ec.message());
  }
  done_ = true;
  // The rename itself lives in the folder; best effort, the file is complete.
  const std::filesystem::path folder = std::filesystem::path(final_path_).parent_path();
  sync_to_disk(folder.empty() ? "." : folder.string(), O_RDONLY | O_DIRECTORY);
}

void AtomicFile::discard() {
  if (out_.is_open()) out_.close();
  std::error_code ec;
  std::filesystem::remove(temp_path_, ec);
  done_ = true;
}

}  // namespace molearn
