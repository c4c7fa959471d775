#include "molearn/train/generation.hpp"

#include <torch/torch.h>

#include <charconv>
#include <cmath>
#include <cstdio>
#include <thread>

#include "molearn/analysis/latent_grid.hpp"
#include "molearn/core/error.hpp"
#include "molearn/data/dataset_file.hpp"
#include "molearn/io/trajectory_writer.hpp"
#include "molearn/train/autocast_model.hpp"
#include "molearn/train/checkpoint.hpp"
#include "molearn/train/precision.hpp"
#include "molearn/train/sinkhorn_training.hpp"
#include "molearn/train/tensor_dataset.hpp"

namespace molearn {

std::vector<double> parse_latent_point(const std::string& text) { return parse_numbers(text, "latent point"); }

namespace {

torch::Tensor latent_tensor(const std::vector<std::vector<double>>& points, std::int64_t dim) {
  auto z = torch::empty({static_cast<std::int64_t>(points.size()), dim});
  for (std::size_t i = 0; i < points.size(); ++i) {
    if (static_cast<std::int64_t>(points[i].size()) != dim)
      throw InputError("latent point " + std::to_string(i + 1) + " has " + std::to_string(points[i].size()) +
                       " values, but the model's latent space has " + std::to_string(dim) + " dimensions");
    for (std::int64_t k = 0; k < dim; ++k) {
      const double value = points[i][static_cast<std::size_t>(k)];
      if (!fits_latent_float(value)) {
        char shown[32];
        std::snprintf(shown, sizeof shown, "%g", value);
        throw InputError("latent point " + std::to_string(i + 1) + " has the value " + shown +
                         ", beyond a float's range (+-3.4e38)");
      }
      z[static_cast<std::int64_t>(i)][k] = value;
    }
  }
  return z;
}

std::string dataset_path(const GenerateOptions& options, const LoadedCheckpoint& loaded) {
  return options.dataset.empty() ? loaded.state.dataset_path : options.dataset;
}

Dataset dataset_for(const GenerateOptions& options, const LoadedCheckpoint& loaded) {
  const std::string path = dataset_path(options, loaded);
  Dataset dataset = read_dataset(path);
  if (static_cast<std::int64_t>(dataset.atom_count()) != loaded.state.model.atoms)
    throw InputError(path + ": has " + std::to_string(dataset.atom_count()) + " atoms, the model was trained on " +
                     std::to_string(loaded.state.model.atoms));
  return dataset;
}

// Coordinates of a dataset in the checkpoint's scaling: a dataset given with
// --data may have been scaled differently from the training one (the
// training dataset itself is used as it is).
torch::Tensor scaled_for_model(const Dataset& dataset, const LoadedCheckpoint& loaded) {
  const auto coords = to_tensors(dataset).coords;
  if (dataset.mean == loaded.state.mean && dataset.std == loaded.state.std) return coords;
  return ((coords * dataset.std + dataset.mean) - loaded.state.mean) / loaded.state.std;
}

torch::Tensor interpolation(const GenerateOptions& options, const LoadedCheckpoint& loaded, bool bf16) {
  const Dataset dataset = dataset_for(options, loaded);
  const auto [i, j] = *options.interpolate;
  for (std::size_t f : {i, j})
    if (f >= dataset.frame_count)
      throw InputError(dataset_path(options, loaded) + ": has " + std::to_string(dataset.frame_count) +
                       " frames; frame " + std::to_string(f) + " does not exist (frames are numbered from 0)");
  const auto coords = scaled_for_model(dataset, loaded);
  const auto ends = encode_autocast(
      *loaded.model,
      coords.index_select(0, torch::tensor({static_cast<std::int64_t>(i), static_cast<std::int64_t>(j)})), bf16);
  const auto alpha = torch::linspace(0, 1, options.steps).unsqueeze(1);
  return ends[0].unsqueeze(0) * (1 - alpha) + ends[1].unsqueeze(0) * alpha;
}

// Latent points from the prior of a Sinkhorn-trained model, drawn as the
// trainer draws them.
torch::Tensor prior_samples(const GenerateOptions& options, const LoadedCheckpoint& loaded) {
  const std::string trainer = loaded.state.trainer();
  if (trainer != "sinkhorn")
    throw InputError(options.checkpoint +
                     ": --sample needs a model trained with --trainer sinkhorn, whose decoder "
                     "learnt to turn samples of N(0, I) into structures; this one was trained with --trainer " +
                     trainer + " (use --latent, --interpolate, or 'molearn scan' to find latent points)");
  std::mt19937_64 rng(options.seed);
  return standard_normal_latents(rng, options.sample, loaded.state.model.latent_dim);
}

struct Reconstruction {
  torch::Tensor latent;   // [F, latent_dim]
  torch::Tensor decoded;  // [F, 3, N], scaled
  torch::Tensor rmsd;     // [F], Å
};

// Encodes every frame in chunks (bounded memory for long trajectories) and
// measures how far each decoded structure is from its frame.
Reconstruction reconstruction(const GenerateOptions& options, const LoadedCheckpoint& loaded, bool bf16) {
  const Dataset dataset = dataset_for(options, loaded);
  const auto coords = scaled_for_model(dataset, loaded);
  constexpr std::int64_t kChunk = 16;
  std::vector<torch::Tensor> latents, decoded, rmsds;
  for (std::int64_t start = 0; start < coords.size(0); start += kChunk) {
    const auto x = coords.slice(0, start, std::min(start + kChunk, coords.size(0)));
    latents.push_back(encode_autocast(*loaded.model, x, bf16));
    decoded.push_back(decode_autocast(*loaded.model, latents.back(), bf16));
    rmsds.push_back(rmsd_angstrom(decoded.back(), x, loaded.state.std));
  }
  return {torch::cat(latents), torch::cat(decoded), torch::cat(rmsds)};
}

}  // namespace

GenerateResult generate_structures(const GenerateOptions& options) {
  const int sources = int(!options.latent_points.empty()) + int(options.interpolate.has_value()) +
                      int(options.reconstruct) + int(options.sample != 0);
  if (sources != 1)
    throw InputError(
        "give one of: latent points (--latent), two frames to interpolate between (--interpolate), "
        "--reconstruct, or --sample");
  if (options.sample < 0 || options.sample > kMaxSamples)
    throw InputError("--sample " + std::to_string(options.sample) + ": expected 1 to " + std::to_string(kMaxSamples) +
                     " structures");
  if (options.interpolate && (options.steps < 2 || options.steps > kMaxGenerateSteps))
    throw InputError("--steps " + std::to_string(options.steps) + ": expected 2 to " +
                     std::to_string(kMaxGenerateSteps) + " structures along the path (both ends included)");
  torch::set_num_threads(options.threads > 0 ? options.threads
                                             : static_cast<int>(std::max(1u, std::thread::hardware_concurrency())));
  const bool bf16 = use_bf16(options.precision);
  const LoadedCheckpoint loaded = load_checkpoint(options.checkpoint);
  auto writer = open_trajectory_writer(options.output, loaded.state.topology);
  torch::NoGradGuard no_grad;
  GenerateResult result;
  torch::Tensor z, decoded;  // decoded: only for --reconstruct, which has it already
  if (options.reconstruct) {
    const Reconstruction r = reconstruction(options, loaded, bf16);
    z = r.latent;
    decoded = r.decoded;
    result.rmsd.assign(r.rmsd.data_ptr<float>(), r.rmsd.data_ptr<float>() + r.rmsd.numel());
  } else {
    z = options.interpolate ? interpolation(options, loaded, bf16)
        : options.sample    ? prior_samples(options, loaded)
                            : latent_tensor(options.latent_points, loaded.state.model.latent_dim);
  }
  result.atoms = loaded.state.topology.atom_count();
  // Decoded and written a chunk at a time: memory does not grow with the
  // number of structures.
  constexpr std::int64_t kChunk = 64;
  for (std::int64_t start = 0; start < z.size(0); start += kChunk) {
    const std::int64_t end = std::min(start + kChunk, z.size(0));
    const auto chunk =
        decoded.defined() ? decoded.slice(0, start, end) : decode_autocast(*loaded.model, z.slice(0, start, end), bf16);
    // [B, 3, N] scaled -> [B, N, 3] in Å.
    const auto xyz = (chunk * loaded.state.std + loaded.state.mean).permute({0, 2, 1}).contiguous();
    for (std::int64_t b = 0; b < xyz.size(0); ++b) {
      Frame frame;
      const float* data = xyz[b].data_ptr<float>();
      frame.xyz.assign(data, data + result.atoms * 3);
      writer->write(frame);
      std::vector<double> point;
      for (std::int64_t k = 0; k < z.size(1); ++k) point.push_back(z[start + b][k].item<double>());
      result.latent_points.push_back(std::move(point));
    }
  }
  writer->close();
  result.structures = static_cast<std::size_t>(z.size(0));
  return result;
}

}  // namespace molearn
