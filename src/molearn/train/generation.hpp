// Structures from a trained model: decode latent points, or a straight path
// in latent space between two encoded frames. Plain interface, no torch.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace molearn {

// The most structures (steps) --interpolate decodes along a path, as `molearn path`.
inline constexpr int kMaxGenerateSteps = 10000;

struct GenerateOptions {
  std::string checkpoint;
  std::vector<std::vector<double>> latent_points;                  // decode these
  std::optional<std::pair<std::size_t, std::size_t>> interpolate;  // dataset frames i, j
  int steps = 10;                                                  // structures along the path, both ends included
  bool reconstruct = false;                                        // encode and decode every frame of the dataset
  // Decode this many latent points drawn from N(0, I), the prior of a model
  // trained with --trainer sinkhorn (an autoencoder's latent space has none).
  int sample = 0;
  std::uint64_t seed = 0;  // of the samples
  std::string dataset;     // for --interpolate/--reconstruct; default: the dataset the model was trained on
  std::string output;      // .pdb or .dcd
  int threads = 0;
  std::string precision = "auto";  // fp32, bf16 or auto (resolve_precision): the model's encode and decode
};

struct GenerateResult {
  std::size_t structures = 0;
  std::size_t atoms = 0;
  std::vector<std::vector<double>> latent_points;  // the points decoded
  std::vector<double> rmsd;  // --reconstruct: Å between each frame and its reconstruction (no refitting)
};

// The most structures --sample decodes in one run.
inline constexpr int kMaxSamples = 100000;

// Exactly one of latent_points, interpolate, reconstruct and sample must be given.
// Decodes and writes in chunks, so memory stays bounded. Throws InputError
// (wrong latent dimension, frame index out of range, --steps out of range, a
// dataset from another topology) and OutputError.
GenerateResult generate_structures(const GenerateOptions& options);

// Parses "x,y[,z...]" into numbers. Throws InputError.
std::vector<double> parse_latent_point(const std::string& text);

}  // namespace molearn
