#include "option_checks.hpp"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <thread>

namespace molearn::cli {

namespace {

// The number in `text`, or NaN when it is not one number.
double parse_number(const std::string& text) {
  if (text.empty()) return std::nan("");
  char* end = nullptr;
  errno = 0;
  const double value = std::strtod(text.c_str(), &end);
  if (*end != '\0' || errno == ERANGE) return std::nan("");
  return value;
}

std::string shown(double value) {
  char text[32];
  std::snprintf(text, sizeof text, "%g", value);
  return text;
}

}  // namespace

CLI::Validator positive_number() {
  return CLI::Validator(
      [](std::string& input) -> std::string {
        const double value = parse_number(input);
        if (std::isfinite(value) && value > 0) return "";
        return "must be a positive number (got " + input + ")";
      },
      "POSITIVE");
}

CLI::Validator non_negative_number() {
  return CLI::Validator(
      [](std::string& input) -> std::string {
        const double value = parse_number(input);
        if (std::isfinite(value) && value >= 0) return "";
        return "must be a number >= 0 (got " + input + ")";
      },
      "NONNEGATIVE");
}

CLI::Validator number_in_range(double low, double high) {
  const std::string range = shown(low) + " to " + shown(high);
  return CLI::Validator(
      [low, high, range](std::string& input) -> std::string {
        const double value = parse_number(input);
        if (std::isfinite(value) && value >= low && value <= high) return "";
        return "must be a number from " + range + " (got " + input + ")";
      },
      "in " + range);
}

int max_threads() {
  const int cores = static_cast<int>(std::thread::hardware_concurrency());
  return std::max(64, 4 * cores);
}

CLI::Option* add_threads_option(CLI::App* cmd, int& threads, const std::string& description) {
  const int limit = max_threads();
  return cmd->add_option("--threads", threads, description)
      ->capture_default_str()
      ->check(CLI::Validator(
          [limit](std::string& input) -> std::string {
            const double value = parse_number(input);
            if (std::isfinite(value) && value == std::floor(value) && value >= 0 && value <= limit) return "";
            return "must be 0 (every core) or a number of threads from 1 to " + std::to_string(limit) + " (got " +
                   input + ")";
          },
          "0.." + std::to_string(limit)));
}

CLI::Option* add_precision_option(CLI::App* cmd, std::string& precision, const std::string& what) {
  return cmd
      ->add_option("--precision", precision,
                   "auto: bf16 where the CPU computes it natively (AVX512-BF16), fp32 elsewhere; bf16: " + what +
                       " with convolutions and matrix products in bfloat16 (about 2x faster on such CPUs, slower "
                       "elsewhere; results differ from fp32 by about bfloat16's precision, and were measured as "
                       "accurate: bench/README.md); fp32: full precision throughout")
      ->capture_default_str()
      ->check(CLI::IsMember({"fp32", "bf16", "auto"}));
}

}  // namespace molearn::cli
