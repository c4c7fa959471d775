// The subcommands of the `molearn` command. Each adds itself to the app; its
// callback runs the work and lets molearn::Error propagate to main().
#pragma once

#include <CLI/CLI.hpp>

namespace molearn::cli {

void add_prepare_command(CLI::App& app);
void add_info_command(CLI::App& app);
void add_convert_command(CLI::App& app);
void add_train_command(CLI::App& app);
void add_generate_command(CLI::App& app);
void add_export_command(CLI::App& app);
void add_energy_command(CLI::App& app);
void add_physics_command(CLI::App& app);
void add_relax_command(CLI::App& app);
void add_score_command(CLI::App& app);
void add_scan_command(CLI::App& app);
void add_path_command(CLI::App& app);
void add_report_command(CLI::App& app);
void add_gui_command(CLI::App& app);
void add_simulate_command(CLI::App& app);

// Thrown when the user interrupted long work that can be resumed; main()
// exits with 130 as shells do for Ctrl-C.
struct Interrupted {};

}  // namespace molearn::cli
