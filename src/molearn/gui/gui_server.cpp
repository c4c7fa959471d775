#include "molearn/gui/gui_server.hpp"

#include <httplib.h>
#include <sys/socket.h>

#include <fstream>
#include <iterator>
#include <map>
#include <utility>

#include "molearn/analysis/web_assets.hpp"
#include "molearn/gui/job_queue.hpp"

namespace molearn::gui {

using nlohmann::json;

namespace {

struct Asset {
  std::string content_type;
  std::string bytes;
};

// Content types of what the server sends. Debian's cpp-httplib compresses a
// body whose type starts with "text/" or is exactly "application/json" or
// "application/javascript" with brotli at its highest quality, anew for
// every request: 13-17 s for plotly.min.js (4.8 MB), seconds for a large
// path. On loopback compression buys nothing, so large bodies carry a type
// with a charset parameter, which that check does not match.
constexpr const char* kJavaScript = "application/javascript; charset=utf-8";
constexpr const char* kJson = "application/json; charset=utf-8";

// The only files the server ever sends, read once at start: the page, its
// script and style, and the two libraries from npm.
std::map<std::string, Asset> load_assets() {
  const std::pair<const char*, const char*> files[] = {{"index.html", "text/html; charset=utf-8"},
                                                       {"gui.js", kJavaScript},
                                                       {"gui.css", "text/css; charset=utf-8"},
                                                       {"plotly.min.js", kJavaScript},
                                                       {"ngl.js", kJavaScript}};
  std::map<std::string, Asset> assets;
  for (const auto& [name, type] : files) {
    const std::string path = find_web_asset(name);
    std::ifstream in(path, std::ios::binary);
    assets[name] = {type, {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()}};
    if (!in.good() && !in.eof()) throw InputError(path + ": cannot be read");
  }
  return assets;
}

void send_json(httplib::Response& res, int status, const json& body) {
  res.status = status;
  if (!res.has_header("Cache-Control")) res.set_header("Cache-Control", "no-store");
  // Invalid UTF-8 (from a request, echoed in a message) is replaced, never
  // thrown: an exception here would escape cpp-httplib's error handler.
  res.set_content(body.dump(-1, ' ', false, json::error_handler_t::replace), kJson);
}

void send_error(httplib::Response& res, int status, const std::string& message) {
  send_json(res, status, {{"error", message}});
}

// Runs an API handler and turns what it throws into an answer: the user's
// mistakes are 400 (409 for a map not computed yet), the rest 500.
template <typename F>
void answer(httplib::Response& res, F&& handler) {
  try {
    handler();
  } catch (const MapNotComputed& e) {
    send_error(res, 409, e.what());
  } catch (const JobQueueFull& e) {
    send_error(res, 503, e.what());
  } catch (const InputError& e) {
    send_error(res, 400, e.what());
  } catch (const std::exception& e) {
    send_error(res, 500, e.what());
  }
}

// Host names a page on this machine is reached by. A browser sends the
// name it connected to, so a foreign site that rebinds its DNS name to
// 127.0.0.1 shows up here with its own name and is refused.
bool is_local_name(const std::string& name) {
  return name == "localhost" || name == "[::1]" || name.rfind("127.", 0) == 0;
}

bool is_local_host_header(const std::string& host) {
  const std::string name =
      host.rfind('[', 0) == 0 ? host.substr(0, host.find(']') + 1) : host.substr(0, host.find(':'));
  return is_local_name(name) || name.empty();
}

// An Origin header ("http://127.0.0.1:8050") of a page served from this
// machine. Any other site's page may send requests here (a form, fetch with
// a simple content type) even though it cannot read the answers: refused.
bool is_local_origin(const std::string& origin) {
  const std::string prefix = "http://";
  if (origin.rfind(prefix, 0) != 0) return false;
  return is_local_host_header(origin.substr(prefix.size()));
}

// Refuses what no page of this server sends, before any routing: requests
// from other sites (Host, Origin), POSTs that are not JSON (what a foreign
// page can send without asking the browser first), and byte ranges (200
// overlapping ranges of plotly.min.js made an 800 MB answer). Returns false
// when it has answered.
bool screen_request(const httplib::Request& req, httplib::Response& res, bool loopback) {
  if (loopback && !is_local_host_header(req.get_header_value("Host"))) {
    send_error(res, 403, "this server answers only to localhost");
    return false;
  }
  if (loopback && req.has_header("Origin") && !is_local_origin(req.get_header_value("Origin"))) {
    send_error(res, 403, "requests from other sites' pages are refused");
    return false;
  }
  if (req.method == "POST" && req.get_header_value("Content-Type").rfind("application/json", 0) != 0) {
    send_error(res, 415, "POST bodies must be JSON (Content-Type: application/json)");
    return false;
  }
  if (req.has_header("Range")) {
    send_error(res, 416, "byte ranges are not served");
    return false;
  }
  return true;
}

}  // namespace

bool is_loopback_address(const std::string& host) {
  return host == "localhost" || host == "::1" || host == "0:0:0:0:0:0:0:1" || host.rfind("127.", 0) == 0;
}

struct GuiServer::Impl {
  GuiSession& session;
  GuiServerOptions options;
  std::map<std::string, Asset> assets;
  httplib::Server server;
  JobQueue jobs;
  int listening_socket = -1;

  Impl(GuiSession& s, GuiServerOptions o) : session(s), options(std::move(o)), assets(load_assets()) {
    const std::size_t threads = options.threads;
    server.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
    server.set_payload_max_length(options.limits.max_body_bytes);
    server.set_read_timeout(options.timeout_seconds, 0);
    server.set_write_timeout(options.timeout_seconds, 0);
    // Idle keep-alive connections hold a worker thread: let them go soon.
    server.set_keep_alive_timeout(1);
    // Remembered so that widen_backlog() can reach the socket after bind.
    server.set_socket_options([this](socket_t sock) {
      httplib::default_socket_options(sock);
      listening_socket = static_cast<int>(sock);
    });
    server.set_default_headers({{"X-Content-Type-Options", "nosniff"}, {"Referrer-Policy", "no-referrer"}});
    const bool loopback = is_loopback_address(options.host);
    server.set_pre_routing_handler([loopback](const httplib::Request& req, httplib::Response& res) {
      return screen_request(req, res, loopback) ? httplib::Server::HandlerResponse::Unhandled
                                                : httplib::Server::HandlerResponse::Handled;
    });
    server.set_error_handler([](const httplib::Request&, httplib::Response& res) {
      if (!res.body.empty()) return;
      // The path is not echoed: it is the client's text, not ours.
      if (res.status == 404)
        send_error(res, 404, "nothing here (the page is at /, the API under /api/)");
      else if (res.status == 413)
        send_error(res, 413, "the request body is larger than the server accepts");
      else
        send_error(res, res.status, "the request failed (HTTP " + std::to_string(res.status) + ")");
    });
    server.set_exception_handler([](const httplib::Request&, httplib::Response& res, std::exception_ptr ep) {
      try {
        std::rethrow_exception(ep);
      } catch (const std::exception& e) {
        send_error(res, 500, e.what());
      } catch (...) {
        send_error(res, 500, "an unknown error");
      }
    });
    add_routes();
  }

  void serve_asset(httplib::Response& res, const std::string& name) {
    const auto it = assets.find(name);
    if (it == assets.end()) return send_error(res, 404, "no such asset: " + name);
    res.set_content(it->second.bytes, it->second.content_type.c_str());
  }

  void add_routes() {
    server.Get("/", [this](const httplib::Request&, httplib::Response& res) { serve_asset(res, "index.html"); });
    // The name is looked up in the fixed list; "..", slashes or encoded
    // forms of them can only miss it.
    server.Get(R"(/assets/([A-Za-z0-9_.-]+))", [this](const httplib::Request& req, httplib::Response& res) {
      const std::string name = req.matches[1];
      if (name == "index.html") return send_error(res, 404, "no such asset: " + name);
      serve_asset(res, name);
    });
    server.Get("/api/info", [this](const httplib::Request&, httplib::Response& res) {
      answer(res, [&] { send_json(res, 200, session.info(options.limits)); });
    });
    server.Post("/api/scan",
                [this](const httplib::Request& req, httplib::Response& res) { answer(res, [&] { scan(req, res); }); });
    server.Get(R"(/api/jobs/(\d{1,12}))", [this](const httplib::Request& req, httplib::Response& res) {
      answer(res, [&] {
        const auto status = jobs.status(req.matches[1]);
        if (!status) return send_error(res, 404, "no job " + std::string(req.matches[1]));
        send_json(res, 200, *status);
      });
    });
    server.Post(R"(/api/jobs/(\d{1,12})/cancel)", [this](const httplib::Request& req, httplib::Response& res) {
      answer(res, [&] {
        if (!jobs.cancel(req.matches[1])) return send_error(res, 404, "no job " + std::string(req.matches[1]));
        send_json(res, 200, *jobs.status(req.matches[1]));
      });
    });
    server.Post("/api/path", [this](const httplib::Request& req, httplib::Response& res) {
      answer(res, [&] {
        const PathRequest r =
            parse_path_request(parse_body(req.body), options.limits, session.latent_dim(), session.landscape_names());
        send_json(res, 200, session.path(r));
      });
    });
    server.Post("/api/metrics", [this](const httplib::Request& req, httplib::Response& res) {
      answer(res, [&] {
        const PointsRequest r =
            parse_points_request(parse_body(req.body), options.limits.max_steps, session.latent_dim(), {"json"});
        send_json(res, 200, session.metrics(r.points));
      });
    });
    server.Post("/api/decode", [this](const httplib::Request& req, httplib::Response& res) {
      answer(res, [&] {
        const PointsRequest r = parse_points_request(parse_body(req.body), options.limits.max_decode_points,
                                                     session.latent_dim(), {"pdb", "json"});
        if (r.format == "json") return send_json(res, 200, session.decode_coordinates(r.points));
        res.set_content(session.structures_file(r.points, "pdb"), "chemical/x-pdb");
      });
    });
    server.Post("/api/export", [this](const httplib::Request& req, httplib::Response& res) {
      answer(res, [&] {
        const PointsRequest r =
            parse_points_request(parse_body(req.body), options.limits.max_steps, session.latent_dim(), {"pdb", "dcd"});
        res.set_header("Content-Disposition", "attachment; filename=\"path." + r.format + "\"");
        res.set_content(session.structures_file(r.points, r.format),
                        r.format == "pdb" ? "chemical/x-pdb" : "application/octet-stream");
      });
    });
  }

  void scan(const httplib::Request& req, httplib::Response& res) {
    const MapRequest r = parse_map_request(parse_body(req.body), options.limits, session.landscape_names());
    if (auto map = session.cached_map(r)) return send_json(res, 200, *map);
    const std::string key = r.landscape + "@" + std::to_string(r.grid);
    const std::string id =
        jobs.submit(key, session.map_points(r),
                    [this, r](const std::function<void(std::size_t, std::size_t)>& progress,
                              const std::function<bool()>& stop) { return session.compute_map(r, progress, stop); });
    send_json(res, 202, *jobs.status(id));
  }
};

GuiServer::GuiServer(GuiSession& session, GuiServerOptions options)
    : impl_(std::make_unique<Impl>(session, std::move(options))) {}

GuiServer::~GuiServer() { stop(); }

namespace {

// Debian's cpp-httplib is a compiled library that listens with a backlog of
// 5 (CPPHTTPLIB_LISTEN_BACKLOG is fixed in it): a burst of clients (200 at
// once in the GUI test) overflows that queue, the kernel falls back to SYN
// cookies and some connections are reset. Listening again on the bound
// socket raises the backlog (Linux allows it; the kernel caps it at
// net.core.somaxconn). A failure leaves the server as it was.
constexpr int kListenBacklog = 512;

void widen_backlog(int socket) {
  if (socket >= 0) ::listen(socket, kListenBacklog);
}

}  // namespace

int GuiServer::bind() {
  auto& o = impl_->options;
  if (o.port == 0) {
    const int port = impl_->server.bind_to_any_port(o.host);
    if (port <= 0) throw InputError(o.host + ": cannot listen on this address");
    widen_backlog(impl_->listening_socket);
    return port;
  }
  if (!impl_->server.bind_to_port(o.host, o.port))
    throw InputError(o.host + ":" + std::to_string(o.port) +
                     ": cannot listen there (the port is in use or the address is not this machine's); "
                     "try another --port, or --port 0 for any free one");
  widen_backlog(impl_->listening_socket);
  return o.port;
}

void GuiServer::serve() { impl_->server.listen_after_bind(); }

void GuiServer::stop() {
  if (impl_->server.is_running()) impl_->server.stop();
}

}  // namespace molearn::gui
