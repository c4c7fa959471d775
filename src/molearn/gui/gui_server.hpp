// The HTTP side of `molearn gui` (cpp-httplib): the page and its assets,
// and the JSON API of docs/gui-api.md over a GuiSession. Serves only the
// files it loaded at start (a fixed list of names, never a path from the
// request), bounds request bodies and what they ask for, answers every
// error as JSON with a message, and times out slow clients.
#pragma once

#include <cstddef>
#include <memory>
#include <string>

#include "molearn/gui/api_requests.hpp"
#include "molearn/gui/gui_session_torch.hpp"

namespace molearn::gui {

struct GuiServerOptions {
  std::string host = "127.0.0.1";
  int port = 8050;  // 0: any free port
  ApiLimits limits;
  int timeout_seconds = 10;  // reading a request, writing an answer
  std::size_t threads = 16;  // requests served at once
};

// Whether `host` (a --host value) only listens on this machine.
bool is_loopback_address(const std::string& host);

class GuiServer {
 public:
  // Loads the page's assets (InputError naming a missing one).
  GuiServer(GuiSession& session, GuiServerOptions options);
  ~GuiServer();
  GuiServer(const GuiServer&) = delete;
  GuiServer& operator=(const GuiServer&) = delete;

  // Binds the socket and returns the port (the one chosen when 0 was
  // asked). Throws InputError when the address cannot be bound.
  int bind();
  // Serves until stop() (from another thread or a signal-watching thread).
  void serve();
  void stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace molearn::gui
