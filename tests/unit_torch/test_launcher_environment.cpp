// Rank, world size and rank 0's host from the launchers users have: Slurm's
// srun and PyTorch's torchrun (issue 15).
#include <gtest/gtest.h>

#include <map>
#include <string>

#include "molearn/core/error.hpp"
#include "molearn/train/launcher_environment.hpp"

using molearn::first_slurm_host;
using molearn::InputError;
using molearn::read_launcher_environment;

namespace {

molearn::LauncherSettings read(const std::map<std::string, std::string>& env) {
  return read_launcher_environment([&env](const char* name) -> const char* {
    const auto it = env.find(name);
    return it == env.end() ? nullptr : it->second.c_str();
  });
}

}  // namespace

TEST(LauncherEnvironment, FirstHostOfASlurmHostlist) {
  EXPECT_EQ(first_slurm_host("node17"), "node17");
  EXPECT_EQ(first_slurm_host("node[07-09,12]"), "node07");
  EXPECT_EQ(first_slurm_host("node[12,07-09]"), "node12");  // scontrol keeps the order given
  EXPECT_EQ(first_slurm_host("gpu3,node[01-02]"), "gpu3");
  EXPECT_EQ(first_slurm_host("rack[2-3]-node[001-004]"), "rack2-node001");
  EXPECT_EQ(first_slurm_host("a[1-2]-ib,b3"), "a1-ib");
  EXPECT_EQ(first_slurm_host("login.cluster.org"), "login.cluster.org");
  EXPECT_THROW(first_slurm_host(""), InputError);
  EXPECT_THROW(first_slurm_host("node[01-03"), InputError);
  EXPECT_THROW(first_slurm_host("node]"), InputError);
  EXPECT_THROW(first_slurm_host("node[a-b]"), InputError);
}

TEST(LauncherEnvironment, SrunGivesRankWorldSizeHostAndThreads) {
  const auto s = read({{"SLURM_PROCID", "3"},
                       {"SLURM_NTASKS", "8"},
                       {"SLURM_STEP_NUM_TASKS", "4"},
                       {"SLURM_JOB_NODELIST", "cn[101-102]"},
                       {"SLURM_CPUS_PER_TASK", "16"}});
  EXPECT_EQ(s.launcher, "slurm");
  EXPECT_EQ(s.rank, 3);
  EXPECT_EQ(s.world_size, 4);  // the step's tasks, when srun sets them
  EXPECT_EQ(s.master_address, "cn101");
  EXPECT_EQ(s.threads, 16);
  EXPECT_FALSE(s.master_port.has_value());
}

TEST(LauncherEnvironment, ABatchScriptWithoutSrunIsOneProcess) {
  // sbatch sets SLURM_NTASKS and the node list, but not SLURM_PROCID.
  const auto s = read({{"SLURM_NTASKS", "4"}, {"SLURM_JOB_NODELIST", "cn[1-4]"}, {"SLURM_CPUS_PER_TASK", "2"}});
  EXPECT_EQ(s.launcher, "");
  EXPECT_FALSE(s.rank.has_value());
  EXPECT_FALSE(s.world_size.has_value());
  EXPECT_EQ(s.threads, 2);
}

TEST(LauncherEnvironment, TorchrunVariablesWinOverSlurms) {
  const auto s = read({{"SLURM_PROCID", "0"},
                       {"SLURM_NTASKS", "1"},
                       {"SLURM_JOB_NODELIST", "cn1"},
                       {"RANK", "5"},
                       {"WORLD_SIZE", "8"},
                       {"MASTER_ADDR", "10.0.0.1"},
                       {"MASTER_PORT", "29400"}});
  EXPECT_EQ(s.launcher, "torchrun");
  EXPECT_EQ(s.rank, 5);
  EXPECT_EQ(s.world_size, 8);
  EXPECT_EQ(s.master_address, "10.0.0.1");
  EXPECT_EQ(s.master_port, 29400);
}

TEST(LauncherEnvironment, MalformedValuesNameTheVariable) {
  auto message = [](const std::map<std::string, std::string>& env) -> std::string {
    try {
      read(env);
    } catch (const InputError& e) {
      return e.what();
    }
    return "(no error)";
  };
  EXPECT_NE(message({{"SLURM_PROCID", "x"}, {"SLURM_NTASKS", "2"}}).find("SLURM_PROCID"), std::string::npos);
  EXPECT_NE(message({{"SLURM_PROCID", "0"}, {"SLURM_NTASKS", "0"}}).find("SLURM_NTASKS"), std::string::npos);
  EXPECT_NE(message({{"SLURM_CPUS_PER_TASK", "-2"}}).find("SLURM_CPUS_PER_TASK"), std::string::npos);
  EXPECT_NE(message({{"RANK", "1.5"}}).find("RANK"), std::string::npos);
  EXPECT_NE(message({{"MASTER_PORT", "70000"}}).find("MASTER_PORT"), std::string::npos);
  EXPECT_NE(message({{"SLURM_PROCID", "0"}, {"SLURM_NTASKS", "2"}, {"SLURM_JOB_NODELIST", "n[1-"}})
                .find("SLURM_JOB_NODELIST"),
            std::string::npos);
}
