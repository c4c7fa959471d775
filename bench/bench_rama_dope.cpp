// Ramachandran and DOPE scoring speed on MurD, and molearn's Ramachandran
// evaluation against MolProbity's (cctbx) on the same phi/psi, measured in
// the same run.
//
//   molearn_bench_rama_dope [--data DIR] [--frames 256] [--threads 2] [--reps 3]
//
// Prints structures/s for Ramachandran counts and DOPE (MurD N,CA,CB,C,O:
// 2145 atoms; and all 3286 heavy atoms), then evaluations/s of molearn's
// RamachandranTables::evaluate and of cctbx's RamachandranEval().evaluate on
// the same angles, and structures/s of cctbx's ramalyze on the 16 MurD
// frames; ratios > 1 mean molearn is faster.
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "molearn/analysis/backbone.hpp"
#include "molearn/analysis/conformers.hpp"
#include "molearn/analysis/dope.hpp"
#include "molearn/analysis/ramachandran.hpp"

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

struct Options {
  std::string data = "";
  std::size_t frames = 256;
  int threads = 2;
  int reps = 3;
};

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string key = argv[i], value = argv[i + 1];
    if (key == "--data")
      o.data = value;
    else if (key == "--frames")
      o.frames = std::stoul(value);
    else if (key == "--threads")
      o.threads = std::stoi(value);
    else if (key == "--reps")
      o.reps = std::stoi(value);
  }
  if (o.data.empty()) {
    const char* env = std::getenv("MOLEARN_DATA");
    o.data = env && *env ? env : "../shared/data";
  }
  return o;
}

// Best wall time of `reps` calls, in seconds.
double best_of(int reps, const std::function<void()>& body) {
  double best = 1e300;
  for (int r = 0; r < reps; ++r) {
    const auto start = Clock::now();
    body();
    best = std::min(best, std::chrono::duration<double>(Clock::now() - start).count());
  }
  return best;
}

// The 16 MurD frames repeated up to `frames` structures.
molearn::Conformers repeated(molearn::Conformers c, std::size_t frames) {
  const std::vector<float> one = c.xyz;
  c.xyz.clear();
  for (std::size_t f = 0; f < frames; ++f) {
    const std::size_t k = f % c.frame_count;
    c.xyz.insert(c.xyz.end(), one.begin() + k * c.atom_count() * 3, one.begin() + (k + 1) * c.atom_count() * 3);
  }
  c.frame_count = frames;
  return c;
}

// Runs a Python script with Debian's interpreter; returns its first output number.
double python_seconds(const std::string& script) {
  const std::string path = (fs::temp_directory_path() / "molearn_bench_rama.py").string();
  if (FILE* f = std::fopen(path.c_str(), "w")) {
    std::fputs(script.c_str(), f);
    std::fclose(f);
  }
  double seconds = NAN;
  if (FILE* p = popen(("/usr/bin/python3 " + path + " 2>/dev/null").c_str(), "r")) {
    if (std::fscanf(p, "%lf", &seconds) != 1) seconds = NAN;
    pclose(p);
  }
  return seconds;
}

const char* cctbx_class(molearn::RamaClass c) {
  switch (c) {
    case molearn::RamaClass::General:
      return "general";
    case molearn::RamaClass::Glycine:
      return "glycine";
    case molearn::RamaClass::TransProline:
      return "trans-proline";
    case molearn::RamaClass::CisProline:
      return "cis-proline";
    case molearn::RamaClass::PreProline:
      return "pre-proline";
    case molearn::RamaClass::IleVal:
      return "isoleucine or valine";
  }
  return "general";
}

void structures(const char* what, std::size_t atoms, std::size_t frames, double s1, double sn, int threads) {
  std::printf("%-34s %5zu atoms: %9.1f structures/s (1 thread), %9.1f (%d threads)\n", what, atoms, frames / s1,
              frames / sn, threads);
}

}  // namespace

int main(int argc, char** argv) {
  const Options o = parse(argc, argv);
  const std::string dcd = o.data + "/murd/MurD_test.dcd", top = o.data + "/murd/MurD_test_topo.pdb";
  if (!fs::exists(dcd) || !fs::exists(top)) {
    std::fprintf(stderr, "MurD not found in %s (give --data or MOLEARN_DATA)\n", o.data.c_str());
    return 2;
  }
  const auto rama = molearn::RamachandranTables::load(o.data);
  const auto dope = molearn::DopeTable::load(o.data);
  const auto five = molearn::read_conformers(dcd, top, "N,CA,CB,C,O");
  const auto heavy = molearn::read_conformers(dcd, top, "heavy");
  const auto five_n = repeated(five, o.frames), heavy_n = repeated(heavy, o.frames);
  std::printf("MurD, %zu structures (the 16 frames repeated), best of %d\n", o.frames, o.reps);

  for (const auto* c : {&five_n, &heavy_n}) {
    const double s1 = best_of(o.reps, [&] { molearn::ramachandran_metrics(*c, rama, 1); });
    const double sn = best_of(o.reps, [&] { molearn::ramachandran_metrics(*c, rama, o.threads); });
    structures("Ramachandran counts", c->atom_count(), o.frames, s1, sn, o.threads);
  }
  for (const auto* c : {&five_n, &heavy_n}) {
    const double s1 = best_of(o.reps, [&] { molearn::dope_metrics(*c, dope, {}, 1); });
    const double sn = best_of(o.reps, [&] { molearn::dope_metrics(*c, dope, {}, o.threads); });
    structures("DOPE (15 A, no same-residue pairs)", c->atom_count(), o.frames, s1, sn, o.threads);
  }

  // The same (class, phi, psi) for both evaluators: every residue of the 16 frames.
  struct Angle {
    molearn::RamaClass cls;
    double phi, psi;
  };
  std::vector<Angle> angles;
  const auto backbone = molearn::backbone_of(five);
  for (std::size_t f = 0; f < five.frame_count; ++f)
    for (const auto& r :
         molearn::ramachandran_residues(backbone, molearn::backbone_dihedrals(backbone, five.frame(f)), rama))
      if (r.category != molearn::RamaCategory::NotEvaluated) angles.push_back({r.cls, r.phi, r.psi});
  const int passes = 200;
  double sink = 0;
  const double ours = best_of(o.reps, [&] {
    for (int p = 0; p < passes; ++p)
      for (const Angle& a : angles) sink += rama.evaluate(a.cls, a.phi, a.psi);
  });
  std::string script =
      "import time\nfrom mmtbx.rotamer.ramachandran_eval import RamachandranEval\ne = RamachandranEval()\n"
      "angles = [";
  for (const Angle& a : angles)
    script +=
        "('" + std::string(cctbx_class(a.cls)) + "'," + std::to_string(a.phi) + "," + std::to_string(a.psi) + "),";
  script += "]\nbest = 1e300\nfor r in range(" + std::to_string(o.reps) +
            "):\n    t = time.perf_counter()\n    for c, phi, psi in angles: e.evaluate(c, (phi, psi))\n"
            "    best = min(best, time.perf_counter() - t)\nprint(best)\n";
  const double theirs = python_seconds(script);
  const double ours_rate = angles.size() * passes / ours, theirs_rate = angles.size() / theirs;
  std::printf("phi/psi evaluation, %zu angles: molearn %.3g /s, cctbx RamachandranEval %.3g /s, ratio %.1fx%s\n",
              angles.size(), ours_rate, theirs_rate, ours_rate / theirs_rate, sink == 0 ? " " : "");

  // Whole structures: cctbx's ramalyze (the code of molprobity.ramalyze) on the 16 frames.
  const std::string ramalyze =
      "import time, os, tempfile, mdtraj as md, iotbx.pdb\n"
      "from mmtbx.validation.ramalyze import ramalyze\n"
      "p = os.path.join(tempfile.mkdtemp(), 'murd.pdb')\n"
      "md.load('" +
      dcd + "', top='" + top +
      "').save_pdb(p)\n"
      "h = iotbx.pdb.input(file_name=p).construct_hierarchy()\n"
      "t = time.perf_counter()\nramalyze(pdb_hierarchy=h, outliers_only=False, out=None, quiet=True)\n"
      "print(time.perf_counter() - t)\n";
  const double ramalyze_s = python_seconds(ramalyze);
  const double molearn_s = best_of(o.reps, [&] { molearn::ramachandran_metrics(heavy, rama, 1); });
  std::printf(
      "Ramachandran of the 16 MurD frames (heavy atoms): molearn %.1f structures/s (1 thread), "
      "ramalyze %.2f structures/s, ratio %.0fx\n",
      16 / molearn_s, 16 / ramalyze_s, ramalyze_s / molearn_s);
  return 0;
}
