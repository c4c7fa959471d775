// Writes a file under a temporary name and renames it into place only when the
// whole content has been written, so that readers never see a half-written
// result and a failed run leaves nothing behind.
#pragma once

#include <fstream>
#include <string>
#include <vector>

namespace molearn {

// Throws OutputError when `path` exists and is not a regular file (a device,
// FIFO, folder or symbolic link): renaming a result onto it would replace
// it (as root, even /dev/null) with an ordinary file.
void check_regular_output(const std::string& path);

// Throws InputError when `output` is the same file as one of `inputs` (the
// result would destroy its own input), naming both. Paths that do not exist
// yet never clash.
void check_output_is_not_input(const std::string& output, const std::vector<std::string>& inputs);

// Removes the siblings NAME.tmp.PID and NAME.old.PID (files, or a staged
// folder's) that writers of `final_path` killed on this host left, once
// untouched for a minute; best effort: they are incomplete outputs nobody
// will finish. AtomicFile calls it; so does a staged folder's writer.
void remove_stale_temporaries(const std::string& final_path);

// The temporary files NAME.tmp.PID of `final_path` whose writer is no
// longer running on this host (killed with kill -9, or its node lost), most
// recently changed first: what a resumable writer can recover from.
std::vector<std::string> abandoned_temporaries(const std::string& final_path);

class AtomicFile {
 public:
  // Opens `final_path`'s temporary sibling for binary writing. Throws
  // OutputError if it cannot be created or `final_path` is not a regular
  // file (check_regular_output).
  explicit AtomicFile(std::string final_path);
  ~AtomicFile();  // removes the temporary file unless commit() succeeded

  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;

  std::ofstream& stream() { return out_; }
  const std::string& path() const { return final_path_; }
  const std::string& temporary_path() const { return temp_path_; }

  // Flushes, closes and renames onto the final path. Throws OutputError when
  // any write failed (e.g. disk full); the temporary file is then removed.
  void commit();
  // Abandons the file: closes and removes the temporary file.
  void discard();

 private:
  std::string final_path_;
  std::string temp_path_;
  std::ofstream out_;
  bool done_ = false;
};

}  // namespace molearn
