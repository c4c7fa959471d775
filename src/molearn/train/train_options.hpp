// Everything `molearn train` can be told. Plain data, no torch.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

#include "molearn/models/model_config.hpp"

namespace molearn {

struct DistributedOptions {
  int world_size = 1;  // number of processes; 1 = no distribution
  int rank = 0;
  std::string master_address = "127.0.0.1";
  int master_port = 29500;

  // MASTER_ADDR, MASTER_PORT, RANK and WORLD_SIZE (PyTorch's convention),
  // where set, override the fields. Throws InputError on malformed values.
  void read_environment();
  // "host:port" -> master_address, master_port. Throws InputError.
  void set_master(const std::string& host_port);
};

struct TrainOptions {
  std::string dataset;     // .mlds written by `molearn prepare`
  std::string output_dir;  // checkpoints, log.jsonl
  ModelConfig model;       // atoms is filled in from the dataset
  int max_epochs = 100;
  int patience = 16;  // epochs without validation improvement before stopping; 0 = never stop early
  int batch_size = 16;
  double learning_rate = 1e-3;
  double weight_decay = 1e-4;
  std::uint64_t seed = 0;
  int threads = 0;  // intra-op threads; 0 = all cores
  bool resume = false;
  DistributedOptions distributed;

  nlohmann::json to_json() const;
};

}  // namespace molearn
