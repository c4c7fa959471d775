#include "molearn/io/line_reader.hpp"

#include <zlib.h>

#include <cstring>
#include <filesystem>

#include "molearn/core/error.hpp"

namespace molearn {

LineReader::LineReader(std::string path) : path_(std::move(path)) {
  if (!std::filesystem::exists(path_)) throw InputError(path_ + ": no such file");
  // zlib reads uncompressed files as they are, so one code path serves both.
  gzFile f = gzopen(path_.c_str(), "rb");
  if (!f) throw InputError(path_ + ": cannot open file for reading");
  gzbuffer(f, 1 << 20);
  file_ = f;
  buffer_.resize(4096);
}

LineReader::~LineReader() {
  if (file_) gzclose(static_cast<gzFile>(file_));
}

bool LineReader::next(std::string_view& line) {
  gzFile f = static_cast<gzFile>(file_);
  std::size_t used = 0;
  for (;;) {
    if (!gzgets(f, buffer_.data() + used, static_cast<int>(buffer_.size() - used))) {
      int err = 0;
      const char* message = gzerror(f, &err);
      if (err != Z_OK && err != Z_STREAM_END)
        throw FormatError(path_ + ": line " + std::to_string(line_number_ + 1) + ": " + message);
      if (used == 0) return false;
      break;
    }
    used += std::strlen(buffer_.data() + used);
    if (used > 0 && buffer_[used - 1] == '\n') break;
    if (used + 1 < buffer_.size()) break;  // last line without a newline
    buffer_.resize(buffer_.size() * 2);    // a very long line: keep reading it
  }
  while (used > 0 && (buffer_[used - 1] == '\n' || buffer_[used - 1] == '\r')) --used;
  ++line_number_;
  line = std::string_view(buffer_.data(), used);
  return true;
}

}  // namespace molearn
