// The `molearn` command: parses the command line and turns library errors
// into messages and exit codes. The only place that prints errors and exits.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <exception>
#include <new>
#include <string>

#include "commands.hpp"
#include "molearn/core/error.hpp"

namespace {

// Exit codes: 0 success, 1 runtime failure, 2 bad input, 3 output failure.
constexpr int kExitFailure = 1;
constexpr int kExitBadInput = 2;
constexpr int kExitOutput = 3;
constexpr int kExitInterrupted = 130;

// "molearn train" or "molearn physics system": the subcommands the command
// line had reached, for the hint after an option error.
std::string command_path(const CLI::App& app) {
  std::string path = "molearn";
  const CLI::App* current = &app;
  for (auto subcommands = current->get_subcommands(); !subcommands.empty(); subcommands = current->get_subcommands()) {
    current = subcommands.front();
    path += " " + current->get_name();
  }
  return path;
}

// nlohmann's messages start with a tag such as "[json.exception.type_error.302] ";
// the message around it names the file and what is wrong, so the tag goes.
std::string without_library_tags(const char* what) {
  std::string text = what;
  for (auto at = text.find("[json.exception."); at != std::string::npos; at = text.find("[json.exception.", at)) {
    const auto end = text.find("] ", at);
    if (end == std::string::npos) break;
    text.erase(at, end + 2 - at);
  }
  // libtorch's errors end with a C++ backtrace: a user needs the message.
  for (const char* trace : {"\nException raised from ", "\nframe #0"})
    if (const auto at = text.find(trace); at != std::string::npos) text.erase(at);
  return text;
}

// libtorch reports a failed allocation as its own error, not std::bad_alloc.
bool is_allocation_failure(const std::string& text) {
  return text.find("DefaultCPUAllocator: can't allocate memory") != std::string::npos;
}

constexpr const char* kOutOfMemory = "out of memory (inputs too large for this machine, or a damaged file)";

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "molearn: learn the conformational space of proteins from examples and\n"
      "generate new conformations and transition paths."};
  app.set_version_flag("--version", std::string("molearn ") + MOLEARN_VERSION);
  app.require_subcommand(1);
  app.footer(
      "Examples:\n"
      "  molearn prepare traj.dcd --top topology.pdb -o data.mlds\n"
      "  molearn info data.mlds\n"
      "  molearn train data.mlds -o run/ --epochs 30\n"
      "  molearn generate run/best.ckpt --interpolate 0,5 --steps 20 --data data.mlds -o path.pdb\n"
      "Run 'molearn SUBCOMMAND --help' for the options of each subcommand.");
  molearn::cli::add_prepare_command(app);
  molearn::cli::add_info_command(app);
  molearn::cli::add_convert_command(app);
  molearn::cli::add_train_command(app);
  molearn::cli::add_generate_command(app);
  molearn::cli::add_export_command(app);
  molearn::cli::add_energy_command(app);
  molearn::cli::add_physics_command(app);
  molearn::cli::add_relax_command(app);
  molearn::cli::add_score_command(app);
  molearn::cli::add_scan_command(app);
  molearn::cli::add_path_command(app);
  molearn::cli::add_report_command(app);
  molearn::cli::add_gui_command(app);
  molearn::cli::add_simulate_command(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // --help and --version are "errors" of CLI11 with exit code 0.
    if (e.get_exit_code() == static_cast<int>(CLI::ExitCodes::Success)) return app.exit(e);
    std::fprintf(stderr, "molearn: error: %s\nRun '%s --help' for the options.\n", e.what(), command_path(app).c_str());
    return kExitBadInput;
  } catch (const molearn::cli::Interrupted&) {
    return kExitInterrupted;
  } catch (const molearn::OutputError& e) {
    std::fprintf(stderr, "molearn: error: %s\n", without_library_tags(e.what()).c_str());
    return kExitOutput;
  } catch (const molearn::InputError& e) {
    std::fprintf(stderr, "molearn: error: %s\n", without_library_tags(e.what()).c_str());
    return kExitBadInput;
  } catch (const std::bad_alloc&) {
    std::fprintf(stderr, "molearn: error: %s\n", kOutOfMemory);
    return kExitFailure;
  } catch (const std::exception& e) {
    const std::string text = without_library_tags(e.what());
    std::fprintf(stderr, "molearn: error: %s\n", is_allocation_failure(text) ? kOutOfMemory : text.c_str());
    return kExitFailure;
  }
  return 0;
}
