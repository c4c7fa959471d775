// Trajectory reading speed of molearn against MDTraj (its C readers), measured
// in the same run on the same files, and the peak memory of streaming.
//
//   molearn_bench_io [--data DIR] [--synthetic-gb 1.0] [--reps 3] [--tmp DIR]
//
// Prints frames/s and MB/s for both and the ratio molearn / MDTraj (> 1 means
// molearn is faster).
#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "molearn/io/dcd_writer.hpp"
#include "molearn/io/trajectory_reader.hpp"

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

struct Timing {
  double seconds = 0;
  std::size_t frames = 0;
};

long peak_rss_kb() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_maxrss;
}

// Best of `reps` full streaming reads (each read `passes` times).
Timing time_molearn(const std::string& path, int reps, int passes) {
  Timing best{1e300, 0};
  molearn::Frame frame;
  for (int r = 0; r < reps; ++r) {
    const auto start = Clock::now();
    std::size_t frames = 0;
    for (int p = 0; p < passes; ++p) {
      auto reader = molearn::open_trajectory(path);
      while (reader->read(frame)) ++frames;
    }
    const double s = std::chrono::duration<double>(Clock::now() - start).count();
    if (s < best.seconds) best = {s, frames};
  }
  return best;
}

Timing time_mdtraj(const std::string& path, const std::string& top, int reps, int passes) {
  const std::string loader = path.ends_with(".xtc") ? "md.load_xtc" : "md.load_dcd";
  const std::string script =
      "import time, mdtraj as md\n"
      "topology = md.load_topology('" +
      top +
      "')  # parsed once, outside the timing\n"
      "best = 1e300\n"
      "for r in range(" +
      std::to_string(reps) +
      "):\n"
      "    t = time.perf_counter(); n = 0\n"
      "    for p in range(" +
      std::to_string(passes) +
      "):\n"
      "        n += " +
      loader + "('" + path +
      "', top=topology).n_frames\n"
      "    best = min(best, time.perf_counter() - t)\n"
      "print(best, n)\n";
  const std::string script_path = (fs::temp_directory_path() / "molearn_bench_mdtraj.py").string();
  if (FILE* f = std::fopen(script_path.c_str(), "w")) {
    std::fputs(script.c_str(), f);
    std::fclose(f);
  }
  Timing t;
  if (FILE* p = popen(("/usr/bin/python3 " + script_path).c_str(), "r")) {
    if (std::fscanf(p, "%lf %zu", &t.seconds, &t.frames) != 2) t = {};
    pclose(p);
  }
  fs::remove(script_path);
  return t;
}

void report(const std::string& name, const std::string& path, const std::string& top, int reps, int passes) {
  const double mb = static_cast<double>(fs::file_size(path)) * passes / 1e6;
  const Timing ours = time_molearn(path, reps, passes);
  const Timing theirs = time_mdtraj(path, top, reps, passes);
  std::printf("%-34s molearn %9.0f frames/s %8.0f MB/s | MDTraj %9.0f frames/s %8.0f MB/s | ratio %.2fx\n",
              name.c_str(), ours.frames / ours.seconds, mb / ours.seconds,
              theirs.seconds > 0 ? theirs.frames / theirs.seconds : 0.0, theirs.seconds > 0 ? mb / theirs.seconds : 0.0,
              theirs.seconds > 0 ? theirs.seconds / ours.seconds : 0.0);
  if (theirs.seconds <= 0) std::printf("  (MDTraj measurement failed: is python3-mdtraj installed?)\n");
  std::fflush(stdout);
}

// A DCD of about `gigabytes` GB: MurD-sized frames (3286 atoms) of random walk
// coordinates, written by molearn's own writer.
std::string write_synthetic_dcd(const fs::path& folder, double gigabytes, std::size_t atoms) {
  const std::string path = (folder / "synthetic.dcd").string();
  const std::size_t frame_bytes = atoms * 12 + 24;
  const auto frames = static_cast<std::size_t>(gigabytes * 1e9 / frame_bytes) + 1;
  molearn::DcdWriter writer(path, atoms);
  molearn::Frame frame;
  frame.xyz.resize(atoms * 3);
  std::mt19937 rng(1);
  std::normal_distribution<float> step(0, 0.05f);
  for (std::size_t i = 0; i < frame.xyz.size(); ++i) frame.xyz[i] = static_cast<float>(i % 97);
  for (std::size_t f = 0; f < frames; ++f) {
    for (std::size_t i = 0; i < frame.xyz.size(); i += 97) frame.xyz[i] += step(rng);
    writer.write(frame);
  }
  writer.close();
  return path;
}

}  // namespace

int main(int argc, char** argv) {
  std::string data = std::getenv("MOLEARN_DATA") ? std::getenv("MOLEARN_DATA") : "../shared/data";
  double synthetic_gb = 1.0;
  int reps = 3;
  fs::path tmp = fs::temp_directory_path();
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    if (flag == "--data")
      data = argv[i + 1];
    else if (flag == "--synthetic-gb")
      synthetic_gb = std::atof(argv[i + 1]);
    else if (flag == "--reps")
      reps = std::atoi(argv[i + 1]);
    else if (flag == "--tmp")
      tmp = argv[i + 1];
    else {
      std::fprintf(stderr, "usage: molearn_bench_io [--data DIR] [--synthetic-gb GB] [--reps N] [--tmp DIR]\n");
      return 2;
    }
  }
  const std::string murd_dcd = data + "/murd/MurD_test.dcd";
  const std::string murd_top = data + "/murd/MurD_test_topo.pdb";
  std::printf("molearn trajectory reading vs MDTraj (best of %d, same machine, same run)\n", reps);
  if (fs::exists(murd_dcd)) {
    report("MurD_test.dcd (16 fr x 3286, x200)", murd_dcd, murd_top, reps, 200);
  } else {
    std::printf("MurD data missing at %s (set MOLEARN_DATA); skipping the MurD measurement\n", murd_dcd.c_str());
  }
  const std::string xtc = "/usr/share/doc/python-mdtraj-doc/examples/data/frame0.xtc";
  const std::string native = "/usr/share/doc/python-mdtraj-doc/examples/data/native.pdb";
  if (fs::exists(xtc)) report("frame0.xtc (501 fr x 22, x20)", xtc, native, reps, 20);

  if (synthetic_gb > 0 && fs::exists(murd_top)) {
    const fs::path folder = tmp / "molearn-bench-io";
    fs::create_directories(folder);
    const std::string big = write_synthetic_dcd(folder, synthetic_gb, 3286);
    const long rss_before = peak_rss_kb();
    report("synthetic DCD (" + std::to_string(fs::file_size(big) / 1000000) + " MB)", big, murd_top, 1, 1);
    const long rss_after = peak_rss_kb();
    std::printf(
        "peak memory while streaming the synthetic DCD: %+ld kB over the process's previous peak "
        "(file: %ld kB)\n",
        rss_after - rss_before, static_cast<long>(fs::file_size(big) / 1000));
    fs::remove_all(folder);
  }
  return 0;
}
