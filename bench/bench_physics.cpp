// Energies and forces of a batch of decoded MurD structures (2145 atoms,
// N,CA,CB,C,O, soft non-bonded model: Python molearn's physics loss):
//   (a) molearn's pool of OpenMM Contexts (PhysicsEnergy), CPU and Reference
//       platforms;
//   (b) molearn's libtorch force field (TorchForceField), float32 and float64;
//   (c) Python molearn's CPU path: a Python loop over one OpenMM Context
//       (Debian's python3-simtk), setPositions + getState(energy, forces)
//       structure by structure, on the same System (serialised to XML) and the
//       same coordinates. Python molearn's trainer uses the Reference platform
//       on the CPU; the CPU platform is measured too.
// (a) and (b) are timed as a training step uses them: energy() of the batch
// and the backward pass. Best of --reps.
//
//   OMP_WAIT_POLICY=passive molearn_bench_physics [--data ../shared/data] [--batch 32]
//       [--threads 2] [--reps 3] [--noise 0.1] [--python /usr/bin/python3] [--no-python]
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "molearn/data/npy.hpp"
#include "molearn/data/prepare.hpp"
#include "molearn/physics/energy_loss_torch.hpp"
#include "molearn/physics/system_xml.hpp"
#include "molearn/physics/torch_forcefield.hpp"
#include "molearn/train/tensor_dataset.hpp"

namespace {

using Clock = std::chrono::steady_clock;

double best_seconds(int reps, const std::function<void()>& run) {
  run();  // warm-up: first-touch allocations, OpenMM kernel set-up
  double best = 1e300;
  for (int r = 0; r < reps; ++r) {
    const auto start = Clock::now();
    run();
    best = std::min(best, std::chrono::duration<double>(Clock::now() - start).count());
  }
  return best;
}

// The Python side: the loop of Python molearn's openmm_energy_function on
// the CPU, timed inside Python (interpreter start-up and file reading
// excluded). Prints one JSON object.
const char* kPythonLoop = R"(
import json, sys, time
import numpy as np
import openmm as mm
system_file, coords_file, reps = sys.argv[1], sys.argv[2], int(sys.argv[3])
system = mm.XmlSerializer.deserialize(open(system_file).read())
x = np.load(coords_file).astype(np.float64)
result = {}
for platform in ('Reference', 'CPU'):
    context = mm.Context(system, mm.VerletIntegrator(0.001), mm.Platform.getPlatformByName(platform))
    def run():
        force = np.zeros(x.shape)
        energy = np.zeros(x.shape[0])
        for i, t in enumerate(x):
            context.setPositions(t)
            state = context.getState(getForces=True, getEnergy=True)
            force[i] = state.getForces(asNumpy=True)
            energy[i] = state.getPotentialEnergy()._value
        return energy
    energies = run()
    best = 1e300
    for _ in range(reps):
        start = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - start)
    result[platform] = {'seconds': best, 'energies': energies.tolist(),
                        'threads': context.getPlatform().getPropertyValue(context, 'Threads') if platform == 'CPU' else '1'}
print(json.dumps(result))
)";

std::string run_command(const std::string& command) {
  std::string out;
  FILE* pipe = popen(command.c_str(), "r");
  if (!pipe) return out;
  char buffer[4096];
  while (std::fgets(buffer, sizeof buffer, pipe)) out += buffer;
  pclose(pipe);
  return out;
}

struct Row {
  std::string name;
  double seconds;
};

}  // namespace

int main(int argc, char** argv) {
  std::string data = std::getenv("MOLEARN_DATA") ? std::getenv("MOLEARN_DATA") : "../shared/data";
  std::string python = "/usr/bin/python3";
  std::int64_t batch = 32;
  int threads = 2, reps = 3;
  double noise = 0.1;
  bool with_python = true;
  for (int i = 1; i < argc; ++i) {
    const std::string flag = argv[i];
    if (flag == "--no-python") {
      with_python = false;
      continue;
    }
    if (i + 1 >= argc) {
      std::fprintf(stderr, "%s needs a value\n", flag.c_str());
      return 2;
    }
    const std::string value = argv[++i];
    if (flag == "--data")
      data = value;
    else if (flag == "--batch")
      batch = std::atoll(value.c_str());
    else if (flag == "--threads")
      threads = std::atoi(value.c_str());
    else if (flag == "--reps")
      reps = std::atoi(value.c_str());
    else if (flag == "--noise")
      noise = std::atof(value.c_str());
    else if (flag == "--python")
      python = value;
    else {
      std::fprintf(stderr, "unknown option %s\n", flag.c_str());
      return 2;
    }
  }
  const std::filesystem::path murd = std::filesystem::path(data) / "murd";
  if (!std::filesystem::exists(murd / "MurD_test.dcd")) {
    std::fprintf(stderr, "MurD data not found in %s (--data or MOLEARN_DATA)\n", murd.c_str());
    return 2;
  }
  torch::set_num_threads(threads);

  molearn::PrepareOptions prepare;
  prepare.inputs = {(murd / "MurD_test.dcd").string()};
  prepare.topology = (murd / "MurD_test_topo.pdb").string();
  const molearn::Dataset dataset = molearn::prepare_dataset(prepare);
  const molearn::CoordinateScale scale{dataset.mean, dataset.std};
  // "Decoded" structures: the frames, repeated to fill the batch, with
  // Gaussian noise of `noise` Å, as an imperfect decoder would give.
  torch::manual_seed(0);
  const torch::Tensor frames = molearn::to_tensors(dataset).coords;
  const torch::Tensor decoded = (frames.index_select(0, torch::arange(batch) % frames.size(0)) +
                                 torch::randn({batch, 3, frames.size(2)}) * (noise / dataset.std))
                                    .contiguous();
  const auto system = molearn::dataset_system(dataset, molearn::NonbondedModel::Soft);
  std::printf("MurD: %lld structures x %lld atoms, soft non-bonded, %d threads\n", static_cast<long long>(batch),
              static_cast<long long>(decoded.size(2)), threads);

  std::vector<Row> rows;
  torch::Tensor reference_energies;
  auto loss_step = [&](const std::function<torch::Tensor(const torch::Tensor&)>& energy) {
    const torch::Tensor x = decoded.clone().requires_grad_(true);
    const torch::Tensor e = energy(x);
    molearn::nan_mean(e).backward();
    return e.detach();
  };
  for (const std::string platform : {"CPU", "Reference"}) {
    molearn::PhysicsEnergyOptions o;
    o.platform = platform;
    o.threads = threads;
    molearn::PhysicsEnergy pool(*system, scale, o);
    torch::Tensor e;
    const double s = best_seconds(reps, [&] { e = loss_step([&](const torch::Tensor& x) { return pool.energy(x); }); });
    rows.push_back({"(a) Context pool, " + platform + ", " + std::to_string(threads) + " workers", s});
    if (platform == "Reference")
      reference_energies = pool.energies_and_forces(molearn::decoded_to_nm(decoded, scale)).first;
  }
  for (const torch::Dtype dtype : {torch::kFloat, torch::kDouble}) {
    molearn::TorchForceFieldOptions o;
    o.dtype = dtype;
    molearn::TorchForceField ff(*system, scale, o);
    torch::Tensor e;
    const double s = best_seconds(reps, [&] { e = loss_step([&](const torch::Tensor& x) { return ff.energy(x); }); });
    const char* precision = dtype == torch::kFloat ? "float32" : "float64";
    rows.push_back(
        {std::string("(b) torch force field, ") + precision + ", " + std::to_string(threads) + " threads", s});
    // Where the time goes: the soft core's pair sum alone, and the energies
    // in the force field's own precision (energy() answers in decoded's).
    const torch::Tensor nm = molearn::decoded_to_nm(decoded, scale, dtype);
    const double pairs = best_seconds(reps, [&] { molearn::soft_core_energies_and_forces(nm, ff.soft_core()); });
    const torch::Tensor own = ff.energies_and_forces(nm).first;
    const double diff = ((own - reference_energies).abs() / reference_energies.abs()).max().item<double>();
    std::printf(
        "    torch force field (%s): soft-core kernel alone %.1f ms; max relative energy difference to "
        "OpenMM Reference %.2e\n",
        precision, 1e3 * pairs, diff);
  }

  double python_reference = 0, python_cpu = 0;
  if (with_python) {
    const std::filesystem::path dir =
        std::filesystem::temp_directory_path() / ("molearn-bench-physics-" + std::to_string(std::random_device{}()));
    std::filesystem::create_directories(dir);
    molearn::write_system_xml(*system, (dir / "system.xml").string());
    const torch::Tensor nm = molearn::decoded_to_nm(decoded, scale, torch::kFloat);
    molearn::write_npy((dir / "coords.npy").string(), nm.data_ptr<float>(),
                       {static_cast<std::size_t>(nm.size(0)), static_cast<std::size_t>(nm.size(1)), 3});
    std::ofstream(dir / "loop.py") << kPythonLoop;
    const std::string out =
        run_command(python + " " + (dir / "loop.py").string() + " " + (dir / "system.xml").string() + " " +
                    (dir / "coords.npy").string() + " " + std::to_string(reps));
    std::filesystem::remove_all(dir);
    try {
      const auto j = nlohmann::json::parse(out);
      python_reference = j["Reference"]["seconds"].get<double>();
      python_cpu = j["CPU"]["seconds"].get<double>();
      const auto py_e = j["Reference"]["energies"].get<std::vector<double>>();
      double diff = 0;
      for (std::size_t i = 0; i < py_e.size(); ++i)
        diff = std::max(diff, std::abs(py_e[i] - reference_energies[static_cast<std::int64_t>(i)].item<double>()) /
                                  std::abs(py_e[i]));
      std::printf("    Python loop vs molearn pool (Reference): max relative energy difference %.2e\n", diff);
      rows.push_back({"(c) Python loop, one Context, Reference (Python molearn's CPU path)", python_reference});
      rows.push_back(
          {"(c') Python loop, one Context, CPU platform, " + j["CPU"]["threads"].get<std::string>() + " OpenMM threads",
           python_cpu});
    } catch (const std::exception& e) {
      std::fprintf(stderr, "the Python baseline failed (%s): %s\n", e.what(), out.c_str());
    }
  }

  // Ratios against both Python loops: (c) is what Python molearn runs on a
  // CPU, (c') the faster of the two on this machine for the soft core.
  std::printf("\n| method | ms per batch | structures/s | vs (c) | vs (c') |\n| --- | --- | --- | --- | --- |\n");
  auto ratio = [](double baseline, double seconds) {
    return baseline > 0 ? std::to_string(baseline / seconds).substr(0, 5) + "x" : std::string("-");
  };
  for (const Row& r : rows)
    std::printf("| %s | %.1f | %.1f | %s | %s |\n", r.name.c_str(), 1e3 * r.seconds,
                static_cast<double>(batch) / r.seconds, ratio(python_reference, r.seconds).c_str(),
                ratio(python_cpu, r.seconds).c_str());
  return 0;
}
