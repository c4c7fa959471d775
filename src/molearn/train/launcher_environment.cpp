#include "molearn/train/launcher_environment.hpp"

#include <cctype>
#include <cstdlib>

#include "molearn/core/error.hpp"

namespace molearn {

std::string first_slurm_host(const std::string& hostlist) {
  // Hand-written: Slurm's own parser (libslurm) is not a Debian -dev package
  // molearn could link, and only the first host is needed.
  const auto bad = [&](const std::string& why) {
    return InputError("SLURM_JOB_NODELIST '" + hostlist + "': " + why +
                      " (expected a Slurm hostlist, e.g. node[01-04])");
  };
  std::string host;
  int depth = 0;
  for (std::size_t i = 0; i < hostlist.size(); ++i) {
    const char c = hostlist[i];
    if (c == ',' && depth == 0) break;  // the first item only
    if (c == ']') throw bad("']' without '['");
    if (c != '[') {
      host += c;
      continue;
    }
    // A bracket group: keep the first value of its first range ("07" of
    // "07-09,12"), digits only.
    const std::size_t close = hostlist.find(']', i);
    if (close == std::string::npos) throw bad("'[' without ']'");
    const std::string group = hostlist.substr(i + 1, close - i - 1);
    std::size_t n = 0;
    while (n < group.size() && std::isdigit(static_cast<unsigned char>(group[n]))) ++n;
    if (n == 0) throw bad("a bracket that does not start with a number");
    host += group.substr(0, n);
    i = close;
  }
  if (host.empty()) throw bad("no host");
  return host;
}

namespace {

int parse_int(const char* text, const char* name, int low) {
  char* end = nullptr;
  const long value = std::strtol(text, &end, 10);
  if (*text == '\0' || *end != '\0' || value < low || value > 1000000)
    throw InputError(std::string(name) + "='" + text + "': expected a whole number >= " + std::to_string(low));
  return static_cast<int>(value);
}

}  // namespace

LauncherSettings read_launcher_environment(const std::function<const char*(const char*)>& getenv) {
  const auto get = [&](const char* name) -> const char* {
    const char* value = getenv ? getenv(name) : std::getenv(name);
    return value && *value ? value : nullptr;
  };
  LauncherSettings s;
  if (const char* procid = get("SLURM_PROCID")) {
    const char* tasks = get("SLURM_STEP_NUM_TASKS") ? get("SLURM_STEP_NUM_TASKS") : get("SLURM_NTASKS");
    if (tasks) {
      s.launcher = "slurm";
      s.rank = parse_int(procid, "SLURM_PROCID", 0);
      s.world_size = parse_int(tasks, get("SLURM_STEP_NUM_TASKS") ? "SLURM_STEP_NUM_TASKS" : "SLURM_NTASKS", 1);
      const char* nodes = get("SLURM_STEP_NODELIST") ? get("SLURM_STEP_NODELIST") : get("SLURM_JOB_NODELIST");
      if (nodes) s.master_address = first_slurm_host(nodes);
    }
  }
  if (const char* cpus = get("SLURM_CPUS_PER_TASK")) s.threads = parse_int(cpus, "SLURM_CPUS_PER_TASK", 1);
  if (const char* rank = get("RANK")) {
    s.launcher = "torchrun";
    s.rank = parse_int(rank, "RANK", 0);
  }
  // 0 is let through: the trainer refuses it with the option's name.
  if (const char* world = get("WORLD_SIZE")) s.world_size = parse_int(world, "WORLD_SIZE", 0);
  if (const char* address = get("MASTER_ADDR")) s.master_address = std::string(address);
  if (const char* port = get("MASTER_PORT")) {
    s.master_port = parse_int(port, "MASTER_PORT", 1);
    if (*s.master_port > 65535) throw InputError(std::string("MASTER_PORT='") + port + "': expected 1 to 65535");
  }
  return s;
}

}  // namespace molearn
