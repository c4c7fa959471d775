// What `molearn gui` serves: one checkpoint, its dataset encoded, the maps
// (landscapes over a latent grid) read from a scan folder or computed on
// demand, and paths decoded into structures with their metrics. The header
// is free of torch so that the HTTP server compiles without it.
//
// Thread safety: every method may be called from several request threads at
// once. Model inference and metrics run one batch at a time under a lock
// (libtorch modules are not re-entrant in eval(): they switch mode), so a
// long map computation interleaves with paths and decodes batch by batch.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "molearn/core/error.hpp"
#include "molearn/gui/api_requests.hpp"

namespace molearn::gui {

struct GuiSessionOptions {
  std::string checkpoint;
  std::string data;      // dataset (default: the checkpoint's training dataset)
  std::string scan;      // folder written by `molearn scan` (optional)
  std::string data_dir;  // reference tables (DOPE, Ramachandran)
  std::size_t batch_size = 16;
  int threads = 0;
  std::string precision = "auto";  // fp32, bf16 or auto: the model's encode and decode
};

// A least-cost path was asked over a map that has not been computed yet
// (the API answers 409: compute the map first).
class MapNotComputed : public InputError {
 public:
  using InputError::InputError;
};

class GuiSession {
 public:
  // Loads the checkpoint and dataset, encodes the dataset, prepares every
  // landscape whose reference data is available and reads the scan folder.
  // Throws InputError / FormatError as the commands do.
  explicit GuiSession(const GuiSessionOptions& options);
  ~GuiSession();
  GuiSession(const GuiSession&) = delete;
  GuiSession& operator=(const GuiSession&) = delete;

  // GET /api/info (docs/gui-api.md); `limits` is included as given.
  nlohmann::json info(const ApiLimits& limits) const;
  std::size_t latent_dim() const;
  // Landscapes this session can compute, in the order of the library.
  const std::vector<std::string>& landscape_names() const;
  // Notes for the user (landscapes left out and why).
  const std::vector<std::string>& notes() const;

  // A map computed before (or read from the scan folder), or nothing.
  std::optional<nlohmann::json> cached_map(const MapRequest& request) const;
  // Computes a map batch by batch, reporting (done, total) points; returns
  // nothing when `stop` answered true. The result is cached.
  std::optional<nlohmann::json> compute_map(const MapRequest& request,
                                            const std::function<void(std::size_t, std::size_t)>& progress,
                                            const std::function<bool()>& stop);
  std::size_t map_points(const MapRequest& request) const { return request.grid * request.grid; }

  // POST /api/path. Throws BadRequest (a frame out of range, a PDB that does
  // not fit the model) or MapNotComputed.
  nlohmann::json path(const PathRequest& request);
  // POST /api/metrics: the landscapes of each point's structure.
  nlohmann::json metrics(const std::vector<RequestPoint>& points);
  // POST /api/decode with format json: {"atoms": N, "frames": [[x, y, z, ...], ...]} in Å.
  nlohmann::json decode_coordinates(const std::vector<RequestPoint>& points);
  // The structures of `points` as a file: "pdb" (multi-model) or "dcd".
  std::string structures_file(const std::vector<RequestPoint>& points, const std::string& format);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace molearn::gui
