#include "progress.hpp"

#include <unistd.h>

#include <cstdio>

namespace molearn::cli {

ProgressLine::ProgressLine() : terminal_(::isatty(STDERR_FILENO) != 0), last_() {}

ProgressLine::~ProgressLine() { finish(); }

void ProgressLine::update(const std::string& text, bool force) {
  const auto now = std::chrono::steady_clock::now();
  const auto interval = terminal_ ? std::chrono::milliseconds(100) : std::chrono::milliseconds(5000);
  if (!force && open_ && now - last_ < interval) return;
  last_ = now;
  if (terminal_) {
    std::fprintf(stderr, "\r\033[K%s", text.c_str());
    open_ = true;
  } else {
    std::fprintf(stderr, "%s\n", text.c_str());
    open_ = true;
  }
  std::fflush(stderr);
}

void ProgressLine::finish() {
  if (open_ && terminal_) std::fputc('\n', stderr);
  open_ = false;
}

}  // namespace molearn::cli
