// Training and inference throughput of one molearn autoencoder, as one JSON
// line; bench/bench_training.py runs it next to the PyTorch reference.
//
//   molearn_bench_foldingnet (--atoms N | --dataset D.mlds) [--model foldingnet]
//       [--batch 16] [--threads 2] [--steps 4] [--warmup 1] [--precision fp32|bf16]
//       [--folding onednn|libtorch] [--only train|infer|decode]
//
// --folding libtorch runs FoldingNet's folding layers, and its encoder's last
// graph layer and conv4, layer by layer through libtorch instead of as oneDNN
// chains (models/folding_layer_onednn.hpp, models/onednn_conv_chain.hpp): the
// reference the chains are measured against. --only runs one phase (the
// others print null): decoding alone at several batch sizes, say.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>

#include "molearn/core/allocator.hpp"
#include "molearn/data/dataset_file.hpp"
#include "molearn/models/autoencoder.hpp"
#include "molearn/models/foldingnet.hpp"
#include "molearn/train/precision.hpp"
#include "molearn/train/tensor_dataset.hpp"

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

constexpr const char* kUsage =
    "usage: molearn_bench_foldingnet (--atoms N | --dataset D.mlds) [--model foldingnet|conv1d] [--batch 16]\n"
    "                                [--threads 2] [--steps 4] [--warmup 1] [--precision fp32|bf16]\n"
    "                                [--folding onednn|libtorch] [--only train|infer|decode]\n";

int run(int argc, char** argv) {
  molearn::keep_freed_memory_for_reuse();  // as `molearn train` does
  std::string dataset, model = "foldingnet", precision = "fp32", folding = "onednn", only;
  std::int64_t atoms = 0, batch = 16;
  int threads = 2, steps = 4, warmup = 1;
  for (int i = 1; i < argc; i += 2) {
    const std::string flag = argv[i];
    if (flag == "-h" || flag == "--help" || i + 1 == argc) {
      std::fputs(kUsage, flag == "-h" || flag == "--help" ? stdout : stderr);
      return flag == "-h" || flag == "--help" ? 0 : 2;
    }
    const std::string value = argv[i + 1];
    if (flag == "--atoms")
      atoms = std::atoll(value.c_str());
    else if (flag == "--dataset")
      dataset = value;
    else if (flag == "--model")
      model = value;
    else if (flag == "--batch")
      batch = std::atoll(value.c_str());
    else if (flag == "--threads")
      threads = std::atoi(value.c_str());
    else if (flag == "--steps")
      steps = std::atoi(value.c_str());
    else if (flag == "--warmup")
      warmup = std::atoi(value.c_str());
    else if (flag == "--precision")
      precision = molearn::resolve_precision(value);
    else if (flag == "--folding" && (value == "onednn" || value == "libtorch"))
      folding = value;
    else if (flag == "--only" && (value == "train" || value == "infer" || value == "decode"))
      only = value;
    else {
      std::fprintf(stderr, "unknown option %s\n%s", flag.c_str(), kUsage);
      return 2;
    }
  }
  if (dataset.empty() == (atoms <= 0)) {
    std::fputs(kUsage, stderr);
    return 2;
  }
  torch::set_num_threads(threads);
  torch::manual_seed(0);
  torch::Tensor x;
  if (!dataset.empty()) {
    const auto all = molearn::to_tensors(molearn::read_dataset(dataset)).coords;
    x = all.index_select(0, torch::arange(batch) % all.size(0)).contiguous();
  } else {
    x = torch::randn({batch, 3, atoms});
  }
  molearn::ModelConfig config;
  config.architecture = model;
  config.atoms = x.size(2);
  auto net = molearn::make_autoencoder(config);
  molearn::foldingnet::set_onednn_folding(*net, folding == "onednn");
  torch::optim::AdamW optimizer(net->parameters(), torch::optim::AdamWOptions(1e-3).weight_decay(1e-4));

  // Each phase's frames/s, or "null" where --only skipped it.
  std::string train_fps = "null", infer_fps = "null", decode_fps = "null";
  const auto frames_per_s = [&](Clock::time_point start) {
    return std::to_string(static_cast<double>(batch * steps) / seconds_since(start));
  };
  Clock::time_point start;
  if (only.empty() || only == "train") {
    net->train();
    for (int s = 0; s < warmup + steps; ++s) {
      if (s == warmup) start = Clock::now();
      optimizer.zero_grad();
      torch::Tensor out;
      {
        const molearn::Bf16Autocast autocast(precision == "bf16");  // as `molearn train --precision`
        out = net->forward(x).to(torch::kFloat32);
      }
      torch::mse_loss(out, x).backward();
      optimizer.step();
    }
    train_fps = frames_per_s(start);
  }

  net->eval();
  torch::NoGradGuard no_grad;
  if (only.empty() || only == "infer") {
    for (int s = 0; s < warmup + steps; ++s) {
      if (s == warmup) start = Clock::now();
      const molearn::Bf16Autocast autocast(precision == "bf16");
      net->forward(x);
    }
    infer_fps = frames_per_s(start);
  }

  if (only.empty() || only == "decode") {
    // Decoding alone, what generate, scan, path and the GUI do with latent codes.
    torch::Tensor z;
    {
      const molearn::Bf16Autocast autocast(precision == "bf16");
      z = net->encode(x).to(torch::kFloat32);
    }
    for (int s = 0; s < warmup + steps; ++s) {
      if (s == warmup) start = Clock::now();
      const molearn::Bf16Autocast autocast(precision == "bf16");
      net->decode(z);
    }
    decode_fps = frames_per_s(start);
  }
  std::printf(
      "{\"model\": \"%s\", \"precision\": \"%s\", \"folding\": \"%s\", \"atoms\": %lld, \"batch\": %lld, "
      "\"threads\": %d, \"train_frames_per_s\": %s, \"infer_frames_per_s\": %s, \"decode_frames_per_s\": %s}\n",
      model.c_str(), precision.c_str(), folding.c_str(), static_cast<long long>(x.size(2)),
      static_cast<long long>(batch), threads, train_fps.c_str(), infer_fps.c_str(), decode_fps.c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "molearn_bench_foldingnet: %s\n", e.what());
    return 1;
  }
}
