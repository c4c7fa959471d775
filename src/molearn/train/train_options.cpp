#include "molearn/train/train_options.hpp"

#include <cmath>
#include <cstdlib>

#include "molearn/core/error.hpp"
#include "molearn/train/launcher_environment.hpp"

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
  const LauncherSettings s = read_launcher_environment();
  launcher = s.launcher;
  if (s.rank) rank = *s.rank;
  if (s.world_size) world_size = *s.world_size;
  if (s.master_address) master_address = *s.master_address;
  if (s.master_port) master_port = *s.master_port;
  if (s.threads) launcher_threads = *s.threads;
}

void DistributedOptions::set_master(const std::string& host_port) {
  const auto colon = host_port.rfind(':');
  if (colon == std::string::npos || colon == 0) throw InputError("--master takes host:port, got '" + host_port + "'");
  master_address = host_port.substr(0, colon);
  master_port = parse_int(host_port.substr(colon + 1), "--master port");
}

nlohmann::json TrainOptions::to_json() const {
  nlohmann::json j = {{"dataset", dataset},
                      {"output_dir", output_dir},
                      {"model", model.to_json()},
                      {"max_epochs", max_epochs},
                      {"patience", patience},
                      {"batch_size", batch_size},
                      {"learning_rate", learning_rate},
                      {"weight_decay", weight_decay},
                      {"seed", seed},
                      {"threads", threads},
                      {"trainer", trainer},
                      {"world_size", distributed.world_size},
                      {"physics", physics.to_json()},
                      {"geometry", geometry.to_json()}};
  if (!loss_terms.empty()) j["loss_terms"] = loss_terms;
  if (trainer == "sinkhorn") j["sinkhorn"] = sinkhorn.to_json();
  return j;
}

nlohmann::json PhysicsOptions::to_json() const {
  return {{"engine", engine}, {"nonbonded", nonbonded}, {"forcefield", forcefield},  {"platform", platform},
          {"scale", scale},   {"weight", weight},       {"start_epoch", start_epoch}};
}

void SinkhornOptions::check() const {
  if (!std::isfinite(blur) || blur <= 0)
    throw InputError("the Sinkhorn blur (--sinkhorn-blur) must be a finite number > 0, got " + std::to_string(blur));
  if (!(scaling > 0 && scaling < 1))
    throw InputError("the Sinkhorn scaling (--sinkhorn-scaling) must be in (0, 1), got " + std::to_string(scaling));
}

nlohmann::json SinkhornOptions::to_json() const { return {{"blur", blur}, {"scaling", scaling}}; }

nlohmann::json GeometryLossOptions::to_json() const {
  return {{"bonded_weight", bonded_weight},     {"local_weight", local_weight},       {"local_k", local_k},
          {"nonlocal_weight", nonlocal_weight}, {"dihedral_weight", dihedral_weight}, {"start_epoch", start_epoch}};
}

GeometryLossOptions GeometryLossOptions::from_json(const nlohmann::json& j) {
  GeometryLossOptions g;
  g.bonded_weight = j.value("bonded_weight", g.bonded_weight);
  g.local_weight = j.value("local_weight", g.local_weight);
  g.local_k = j.value("local_k", g.local_k);
  g.nonlocal_weight = j.value("nonlocal_weight", g.nonlocal_weight);
  g.dihedral_weight = j.value("dihedral_weight", g.dihedral_weight);
  g.start_epoch = j.value("start_epoch", g.start_epoch);
  return g;
}

}  // namespace molearn
