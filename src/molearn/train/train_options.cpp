#include "molearn/train/train_options.hpp"

#include <cstdlib>

#include "molearn/core/error.hpp"

namespace molearn {

namespace {

int parse_int(const std::string& text, const std::string& what) {
  char* end = nullptr;
  const long value = std::strtol(text.c_str(), &end, 10);
  if (text.empty() || *end != '\0') throw InputError(what + " '" + text + "' is not an integer");
  return static_cast<int>(value);
}

}  // namespace

void DistributedOptions::read_environment() {
  auto get = [](const char* name) -> std::string {
    const char* value = std::getenv(name);
    return value ? value : "";
  };
  if (auto v = get("MASTER_ADDR"); !v.empty()) master_address = v;
  if (auto v = get("MASTER_PORT"); !v.empty()) master_port = parse_int(v, "MASTER_PORT");
  if (auto v = get("RANK"); !v.empty()) rank = parse_int(v, "RANK");
  if (auto v = get("WORLD_SIZE"); !v.empty()) world_size = parse_int(v, "WORLD_SIZE");
}

void DistributedOptions::set_master(const std::string& host_port) {
  const auto colon = host_port.rfind(':');
  if (colon == std::string::npos || colon == 0) throw InputError("--master takes host:port, got '" + host_port + "'");
  master_address = host_port.substr(0, colon);
  master_port = parse_int(host_port.substr(colon + 1), "--master port");
}

nlohmann::json TrainOptions::to_json() const {
  return {{"dataset", dataset},
          {"output_dir", output_dir},
          {"model", model.to_json()},
          {"max_epochs", max_epochs},
          {"patience", patience},
          {"batch_size", batch_size},
          {"learning_rate", learning_rate},
          {"weight_decay", weight_decay},
          {"seed", seed},
          {"threads", threads},
          {"world_size", distributed.world_size},
          {"physics", physics.to_json()}};
}

nlohmann::json PhysicsOptions::to_json() const {
  return {{"engine", engine}, {"nonbonded", nonbonded}, {"forcefield", forcefield},  {"platform", platform},
          {"scale", scale},   {"weight", weight},       {"start_epoch", start_epoch}};
}

}  // namespace molearn
