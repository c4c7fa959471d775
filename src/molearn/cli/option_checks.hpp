// Checks of command-line values shared by the subcommands, with plain
// messages (CLI11's own number validators print ranges up to 1.8e308 in
// full). They run while the command line is parsed, before any work.
#pragma once

#include <CLI/CLI.hpp>
#include <string>

namespace molearn::cli {

// A finite number > 0 ("--stride: must be a positive number (got 0)").
CLI::Validator positive_number();
// A finite number >= 0.
CLI::Validator non_negative_number();
// A finite number in [low, high].
CLI::Validator number_in_range(double low, double high);

// The largest --threads accepted: 4 x the cores, at least 64. More threads
// than that only slow the work down (and 100000 of them never start).
int max_threads();

// --threads T with 0 (every core) .. max_threads(); anything else is refused
// with exit 2 before the inputs are read. Every command with threads uses it.
CLI::Option* add_threads_option(CLI::App* cmd, int& threads, const std::string& description = "Threads (0: all cores)");

// --precision fp32|bf16|auto for the commands that run a model; `what`
// completes "... in bfloat16" (e.g. "decoding and encoding").
CLI::Option* add_precision_option(CLI::App* cmd, std::string& precision, const std::string& what);

}  // namespace molearn::cli
