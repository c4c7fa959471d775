// Reads a text file line by line, transparently decompressing .gz files.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace molearn {

class LineReader {
 public:
  // Throws InputError if the file cannot be opened.
  explicit LineReader(std::string path);
  ~LineReader();
  LineReader(const LineReader&) = delete;
  LineReader& operator=(const LineReader&) = delete;

  // Next line without its end-of-line characters; false at end of file. The
  // view stays valid until the next call.
  bool next(std::string_view& line);
  // 1-based number of the line last returned.
  std::size_t line_number() const { return line_number_; }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  void* file_ = nullptr;  // gzFile; kept opaque so zlib stays out of headers
  std::string buffer_;
  std::size_t line_number_ = 0;
};

}  // namespace molearn
