// Writes a file under a temporary name and renames it into place only when the
// whole content has been written, so that readers never see a half-written
// result and a failed run leaves nothing behind.
#pragma once

#include <fstream>
#include <string>

namespace molearn {

class AtomicFile {
 public:
  // Opens `final_path`'s temporary sibling for binary writing. Throws
  // OutputError if it cannot be created.
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
