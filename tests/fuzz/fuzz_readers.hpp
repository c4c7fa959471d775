// What each fuzz target does with its input file, shared by the targets
// (fuzz_<name>.cpp) and by the unit tests that replay tests/fuzz/regressions/
// <name>/ (test_fuzz_regressions.cpp in tests/unit, unit_physics and
// unit_analysis), so that a regression input is read exactly as the fuzzer
// read it. Every read() goes through each(): molearn's typed errors are
// swallowed, anything else escapes.
//
// Functions are inline: a program odr-uses, and so links the library of, only
// the readers it calls.
#pragma once

#include <algorithm>
#include <filesystem>
#include <string>

#include "fuzz_support.hpp"
#include "molearn/analysis/dope.hpp"
#include "molearn/analysis/npy_float64.hpp"
#include "molearn/analysis/ramachandran.hpp"
#include "molearn/data/dataset_file.hpp"
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

}  // namespace molearn::fuzz
