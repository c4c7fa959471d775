// What each fuzz target does with its input file, shared by the targets
// (fuzz_target.cpp) and by the unit tests that replay tests/fuzz/regressions/
// <name>/ (test_fuzz_regressions.cpp in tests/unit, unit_physics,
// unit_analysis and unit_gui), so that a regression input is read exactly as
// the fuzzer read it. Every read() goes through each(): molearn's typed errors are
// swallowed, anything else escapes.
//
// Functions are inline: a program odr-uses, and so links the library of, only
// the readers it calls.
#pragma once

#include <algorithm>
#include <cstddef>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "fuzz_support.hpp"
#include "molearn/analysis/dope.hpp"
#include "molearn/analysis/npy_float64.hpp"
#include "molearn/analysis/ramachandran.hpp"
#include "molearn/analysis/scan_folder.hpp"
#include "molearn/data/dataset_file.hpp"
#include "molearn/gui/api_requests.hpp"
#include "molearn/io/zip_record_checksums.hpp"
#include "molearn/physics/forcefield_reader.hpp"

namespace molearn::fuzz {

// Target::name is the folder of its seeds and regressions, Target::file the
// name its input is written under (readers go by the extension).

// The PDB reader (plain or gzip-compressed text). No skip_frames(): PDB's
// skip() is read().
struct Pdb {
  static constexpr const char* name = "pdb";
  static constexpr const char* file = "input.pdb";
  static void read(const std::string& path) { each(path, read_frames); }
};

// The mmCIF reader (gemmi's parser behind molearn's checks).
struct Mmcif {
  static constexpr const char* name = "mmcif";
  static constexpr const char* file = "input.cif";
  static void read(const std::string& path) { each(path, read_frames); }
};

// The DCD reader: both byte orders, 4- and 8-byte markers, unit cells, fixed atoms.
struct Dcd {
  static constexpr const char* name = "dcd";
  static constexpr const char* file = "input.dcd";
  static void read(const std::string& path) { each(path, read_frames, skip_frames); }
};

// The XTC reader and its bit-level decompressor.
struct Xtc {
  static constexpr const char* name = "xtc";
  static constexpr const char* file = "input.xtc";
  static void read(const std::string& path) { each(path, read_frames, skip_frames); }
};

// The .mlds reader: the header as `molearn info --json` reads it, the
// metadata alone, then everything with the coordinates and their checksum.
struct Dataset {
  static constexpr const char* name = "dataset";
  static constexpr const char* file = "input.mlds";
  static void read(const std::string& path) {
    each(
        path, [](const std::string& p) { read_dataset_header(p); },
        [](const std::string& p) { read_dataset(p, false); },
        [](const std::string& p) {
          const molearn::Dataset d = read_dataset(p, true);
          check(d.coords.size() == d.frame_count * d.atom_count() * 3, "coordinates differ from frames x atoms x 3");
          check(d.termini.size() == d.topology.residue_count(), "termini differ from the residues");
        });
  }
};

// The OpenMM force-field XML reader.
struct Forcefield {
  static constexpr const char* name = "forcefield";
  static constexpr const char* file = "input.xml";
  static void read(const std::string& path) {
    each(path, [](const std::string& p) { read_forcefield({p}); });
  }
};

// The DOPE table reader (IMP's dope_score.lib); a table it accepts is then
// evaluated over its whole distance range.
struct Dope {
  static constexpr const char* name = "dope";
  static constexpr const char* file = "dope_score.lib";
  static void read(const std::string& path) {
    each(path, [](const std::string& p) {
      const DopeTable table = DopeTable::load_file(p);
      const int types = static_cast<int>(std::min<std::size_t>(table.type_count(), 3));
      for (int a = 0; a < types; ++a)
        for (int b = 0; b < types; ++b)
          for (double r = -1; r < 20; r += 0.37) table.pair_energy(a, b, r);
    });
  }
};

// The Ramachandran (Top8000 grid) reader. The input is the general-case grid,
// which is read first; the five other grids of its folder are small valid
// ones written beside it when missing. Accepted tables are evaluated at a few
// angles.
struct Ramachandran {
  static constexpr const char* name = "ramachandran";
  static constexpr const char* file = "rama8000-general-noGPIVpreP.data";
  static constexpr RamaClass classes[] = {RamaClass::General,    RamaClass::Glycine,    RamaClass::TransProline,
                                          RamaClass::CisProline, RamaClass::PreProline, RamaClass::IleVal};
  static void read(const std::string& path) {
    const std::filesystem::path folder = std::filesystem::path(path).parent_path();
    static const std::string grid =
        "#   x1: -180.0 180.0 180 true\n#   x2: -180.0 180.0 180 true\n-63.0 -41.0 0.5\n-179.0 179.0 0.01\n";
    for (RamaClass cls : classes) {
      const std::filesystem::path other = folder / RamachandranTables::file_name(cls);
      if (cls != RamaClass::General && !std::filesystem::exists(other))
        write_file(other.string(), reinterpret_cast<const std::uint8_t*>(grid.data()), grid.size());
    }
    each(path, [&](const std::string&) {
      const RamachandranTables tables = RamachandranTables::load_folder(folder.string());
      for (RamaClass cls : classes)
        for (double angle : {-180.0, -179.0, -63.5, 0.0, 1.0, 179.9, 180.0, 725.0})
          tables.categorise(cls, tables.evaluate(cls, angle, -angle / 2));
    });
  }
};

// The float64 NPY reader of scan folders (`--scan`).
struct Npy {
  static constexpr const char* name = "npy";
  static constexpr const char* file = "input.npy";
  static void read(const std::string& path) {
    each(path, [](const std::string& p) {
      const NpyFloat64 npy = read_npy_float64(p);
      std::size_t values = 1;
      for (std::size_t n : npy.shape) values *= n;
      check(values == npy.data.size(), "the data differ from the shape");
    });
  }
};

// The zip reader that checks the CRC-32 of every stored record of a
// checkpoint before libtorch reads it (train/checkpoint.cpp).
struct Checkpoint {
  static constexpr const char* name = "checkpoint";
  static constexpr const char* file = "input.ckpt";
  static void read(const std::string& path) { each(path, verify_record_checksums); }
};

// A `--scan` folder (`molearn path|report|gui --scan`): the input is its
// scan.json; the landscapes it may name, error.npy and drift.npy, are valid
// 4 x 4 grids (`molearn scan --grid 4`) written beside it when missing. A
// scan that is read is checked against its promises, then against the
// checkpoint it names and a 2-D latent space, as `molearn path --scan` does.
struct Scan {
  static constexpr const char* name = "scan";
  static constexpr const char* file = "scan.json";
  static void read(const std::string& path) {
    const std::filesystem::path folder = std::filesystem::path(path).parent_path();
    for (const char* landscape : {"error.npy", "drift.npy"})
      if (!std::filesystem::exists(folder / landscape)) {
        std::vector<double> values(16);
        for (std::size_t k = 0; k < values.size(); ++k) values[k] = 0.25 * double(k);
        write_npy_float64((folder / landscape).string(), values, {4, 4});
      }
    each(path, [&](const std::string&) {
      const ScanData scan = read_scan(folder.string());
      check(!scan.landscapes.empty(), "a scan without landscapes");
      check(scan.grid.nx() == scan.x.size() && scan.grid.ny() == scan.y.size(), "the grid differs from x and y");
      check(scan.grid.plane.latent_dim() == std::size_t(scan.latent_dim), "the plane differs from latent_dim");
      for (const ScanLandscape& l : scan.landscapes) {
        check(l.values.size() == scan.grid.size(), "a landscape differs from the grid");
        check(scan.find(l.name) != nullptr, "a landscape cannot be found by its name");
      }
      scan.grid.point(0);
      scan.grid.point(scan.grid.size() - 1);
      check_scan_matches(scan, scan.checkpoint, 2);
    });
  }
};

// The JSON requests of `molearn gui`'s API (gui/api_requests.hpp): the input
// is a request body, parsed as JSON once (parse_body) and then as each
// request the server takes, with the default limits, for a 2-D and a 3-D
// latent space. BadRequest is the expected answer; a request that is
// accepted is checked against the limits.
struct GuiRequest {
  static constexpr const char* name = "gui_request";
  static constexpr const char* file = "request.json";
  static void check_points(const gui::PointsRequest& r, std::size_t max_points, std::size_t latent_dim,
                           const std::vector<std::string>& formats) {
    check(!r.points.empty() && r.points.size() <= max_points, "points beyond their limit");
    check(std::find(formats.begin(), formats.end(), r.format) != formats.end(), "a format not allowed");
    for (const gui::RequestPoint& p : r.points)
      check(p.values.size() == (p.on_plane ? 2 : latent_dim), "a point of the wrong size");
  }
  static void read(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    nlohmann::json body;
    bool parsed = false;
    each(path, [&](const std::string&) {
      body = gui::parse_body(text);
      parsed = true;
    });
    if (!parsed) return;
    const gui::ApiLimits limits;
    const std::vector<std::string> landscapes{"error", "drift", "dope", "energy"};
    each(path, [&](const std::string&) {  // POST /api/scan
      const gui::MapRequest r = gui::parse_map_request(body, limits, landscapes);
      check(std::find(landscapes.begin(), landscapes.end(), r.landscape) != landscapes.end(), "an unknown landscape");
      check(r.grid >= 2 && r.grid <= limits.max_grid, "a grid beyond its limits");
    });
    for (const std::size_t latent_dim : {std::size_t(2), std::size_t(3)}) {
      each(
          path,
          [&](const std::string&) {  // POST /api/path
            const gui::PathRequest r = gui::parse_path_request(body, limits, latent_dim, landscapes);
            check(r.waypoints.size() >= 2 && r.waypoints.size() <= limits.max_waypoints,
                  "waypoints beyond their limits");
            check(r.steps >= 2 && r.steps <= limits.max_steps, "steps beyond their limits");
            check(r.landscape == "straight" || (r.grid >= 2 && r.grid <= limits.max_grid), "a grid beyond its limits");
            for (const gui::Waypoint& w : r.waypoints) {
              if (w.kind == gui::Waypoint::Kind::Point)
                check(w.point.values.size() == (w.point.on_plane ? 2 : latent_dim), "a waypoint of the wrong size");
              if (w.kind == gui::Waypoint::Kind::Pdb) check(!w.pdb_text.empty(), "an empty PDB waypoint");
            }
          },
          [&](const std::string&) {  // POST /api/metrics
            const std::vector<std::string> formats{"json"};
            check_points(gui::parse_points_request(body, limits.max_steps, latent_dim, formats), limits.max_steps,
                         latent_dim, formats);
          },
          [&](const std::string&) {  // POST /api/decode
            const std::vector<std::string> formats{"pdb", "json"};
            check_points(gui::parse_points_request(body, limits.max_decode_points, latent_dim, formats),
                         limits.max_decode_points, latent_dim, formats);
          },
          [&](const std::string&) {  // POST /api/export
            const std::vector<std::string> formats{"pdb", "dcd"};
            check_points(gui::parse_points_request(body, limits.max_steps, latent_dim, formats), limits.max_steps,
                         latent_dim, formats);
          });
    }
  }
};

}  // namespace molearn::fuzz
