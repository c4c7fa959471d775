// Where a distributed run learns its rank, world size and rank 0's address
// when a launcher starts it: PyTorch's torchrun (RANK, WORLD_SIZE,
// MASTER_ADDR, MASTER_PORT, LOCAL_RANK) or Slurm's srun (SLURM_PROCID,
// SLURM_STEP_NUM_TASKS or SLURM_NTASKS, SLURM_JOB_NODELIST,
// SLURM_CPUS_PER_TASK). No torch.
#pragma once

#include <functional>
#include <optional>
#include <string>

namespace molearn {

// The first host of a Slurm hostlist ("node[07-09,12],gpu1" -> "node07"),
// as `scontrol show hostnames` lists it first: the first comma-separated
// item, each bracketed range replaced by its first value (zero padding
// kept). Throws InputError for a malformed list.
std::string first_slurm_host(const std::string& hostlist);

// What a launcher says about this process; fields it does not set are
// empty.
struct LauncherSettings {
  std::string launcher;  // "torchrun", "slurm" or "" (none)
  std::optional<int> rank, world_size, master_port, threads;
  std::optional<std::string> master_address;
};

// Reads the variables through `getenv` (std::getenv by default, a map in
// tests). torchrun's variables win over Slurm's where both are set (torchrun
// run inside a Slurm allocation); Slurm's count only under srun
// (SLURM_PROCID is set by srun for each task, not in a batch script), so a
// process started directly in an sbatch script stays a single process.
// Throws InputError naming the variable for a malformed value.
LauncherSettings read_launcher_environment(const std::function<const char*(const char*)>& getenv = nullptr);

}  // namespace molearn
