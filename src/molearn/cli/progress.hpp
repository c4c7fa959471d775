// Progress lines for long work: rewritten in place on a terminal, one line
// every few seconds otherwise (logs, CI).
#pragma once

#include <chrono>
#include <string>

namespace molearn::cli {

class ProgressLine {
 public:
  ProgressLine();
  ~ProgressLine();
  // Shows `text`; throttled unless `force`.
  void update(const std::string& text, bool force = false);
  // Ends the line (keeps the last text visible).
  void finish();

 private:
  bool terminal_;
  bool open_ = false;
  std::chrono::steady_clock::time_point last_;
};

}  // namespace molearn::cli
