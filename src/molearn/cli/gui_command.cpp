// `molearn gui`: the latent space in the browser (issue 14). A local web
// server (cpp-httplib) serving one page and the JSON API of docs/gui-api.md.
#include <torch/torch.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <memory>
#include <thread>

#include "commands.hpp"
#include "molearn/core/allocator.hpp"
#include "molearn/core/error.hpp"
#include "molearn/gui/gui_server.hpp"
#include "molearn/gui/gui_session_torch.hpp"
#include "molearn/train/precision.hpp"
#include "option_checks.hpp"

namespace molearn::cli {

namespace {

std::atomic<bool> g_stop{false};
// The first Ctrl-C stops the server once the requests under way are
// answered; a second one ends the process at once.
extern "C" void request_gui_stop(int sig) {
  g_stop.store(true);
  std::signal(sig, SIG_DFL);
}

struct GuiArgs {
  std::string checkpoint, data, scan, host = "127.0.0.1", data_dir;
  int port = 8050;
  int threads = 0;
  std::size_t batch_size = 16;
  std::string precision = "auto";
};

void run_gui(const GuiArgs& args) {
  keep_freed_memory_for_reuse();  // decoding's activations are not page-faulted in again (core/allocator.hpp)
  if (args.host.empty()) throw InputError("--host: give an address, e.g. 127.0.0.1 (this machine only) or 0.0.0.0");
  const bool loopback = gui::is_loopback_address(args.host);
  torch::set_num_threads(args.threads > 0 ? args.threads
                                          : static_cast<int>(std::max(1u, std::thread::hardware_concurrency())));
  std::printf("loading %s and encoding its dataset...\n", args.checkpoint.c_str());
  std::fflush(stdout);
  gui::GuiSessionOptions session_options{args.checkpoint, args.data,    args.scan,     args.data_dir,
                                         args.batch_size, args.threads, args.precision};
  gui::GuiSession session(session_options);
  if (const std::string note = precision_note(args.precision); !note.empty()) std::printf("%s\n", note.c_str());
  for (const auto& note : session.notes()) std::printf("note: %s\n", note.c_str());

  gui::GuiServerOptions server_options;
  server_options.host = args.host;
  server_options.port = args.port;
  gui::GuiServer server(session, server_options);
  const int port = server.bind();
  if (!loopback)
    std::printf(
        "warning: listening on %s, not only on this machine: anyone who can reach port %d can use this "
        "server and your model (there is no login). Prefer the default 127.0.0.1 and an SSH tunnel.\n",
        args.host.c_str(), port);
  std::string shown_host = args.host == "0.0.0.0" ? "127.0.0.1" : args.host == "::" ? "::1" : args.host;
  if (shown_host.find(':') != std::string::npos) shown_host = "[" + shown_host + "]";  // an IPv6 address in a URL
  std::printf("molearn gui: serving on http://%s:%d/  (Ctrl-C to stop)\n", shown_host.c_str(), port);
  std::fflush(stdout);

  g_stop.store(false);
  std::signal(SIGINT, request_gui_stop);
  std::signal(SIGTERM, request_gui_stop);
  // A signal handler may not stop the server itself; this thread does.
  std::atomic<bool> served{false};
  // stop() before the server runs does nothing, so it is asked until serving ends.
  std::thread watcher([&] {
    while (!served.load()) {
      if (g_stop.load()) server.stop();
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  });
  server.serve();
  served.store(true);
  watcher.join();
  std::signal(SIGINT, SIG_DFL);
  std::signal(SIGTERM, SIG_DFL);
  std::printf("molearn gui: stopped\n");
}

}  // namespace

void add_gui_command(CLI::App& app) {
  auto args = std::make_shared<GuiArgs>();
  CLI::App* cmd = app.add_subcommand(
      "gui",
      "Explore a trained model's latent space in the browser: a local web page with the latent map (a landscape "
      "from --scan or computed on demand, the encoded frames on top), paths drawn by clicking (straight or "
      "least-cost), the decoded structures in a 3D viewer with their metrics, and downloads (PDB, DCD, CSV, PNG, "
      "session JSON). Works offline; the JSON API behind it is in docs/gui-api.md.");
  cmd->add_option("checkpoint", args->checkpoint, "Checkpoint written by 'molearn train'")->required();
  cmd->add_option("--data", args->data, "Dataset to encode and show (default: the training dataset)");
  cmd->add_option("--scan", args->scan, "Folder written by 'molearn scan' for this checkpoint (maps shown at once)");
  cmd->add_option("--host", args->host,
                  "Address to listen on; 0.0.0.0 makes the server reachable from other machines (a warning is "
                  "printed: there is no login)")
      ->capture_default_str();
  cmd->add_option("--port", args->port, "Port (0: any free port)")
      ->capture_default_str()
      ->check(number_in_range(0, 65535));
  cmd->add_option("--data-dir", args->data_dir, "Folder of reference tables (dope/, rama8000/)");
  cmd->add_option("--batch-size", args->batch_size, "Structures decoded at once")
      ->capture_default_str()
      ->check(number_in_range(1, 1024));
  add_threads_option(cmd, args->threads, "Threads for the model and metrics (0: all cores)");
  add_precision_option(cmd, args->precision, "the model's encoding and decoding");
  cmd->footer(
      "Examples:\n"
      "  molearn gui run/best.ckpt                       # then open http://127.0.0.1:8050/\n"
      "  molearn gui run/best.ckpt --scan scan/ --port 8080\n"
      "  molearn gui run/best.ckpt --data murd.mlds --port 0    # any free port; the URL is printed\n"
      "On a cluster node: run it there, then on your laptop 'ssh -L 8050:localhost:8050 node' and open\n"
      "http://127.0.0.1:8050/. Ctrl-C stops the server.");
  cmd->callback([args] { run_gui(*args); });
}

}  // namespace molearn::cli
