// The options of the Sinkhorn divergence and trainer. Plain data, no torch.
#pragma once

#include <nlohmann/json.hpp>

namespace molearn {

// The Sinkhorn trainer (--trainer sinkhorn; Python molearn's
// Sinkhorn_Trainer): the decoder learns to turn latent points drawn from a
// standard normal distribution into the data, by the Sinkhorn divergence
// (train/sinkhorn_divergence.hpp) between a batch of decoded samples and
// the batch of frames.
struct SinkhornOptions {
  // The entropic blur, in the dataset's scaled units: the final temperature
  // is blur^2. Smaller is closer to the Wasserstein-2 distance. Python
  // molearn's (geomloss's p=2, blur=0.05).
  double blur = 0.05;
  // The temperature falls from the clouds' squared diameter to blur^2 by
  // scaling^2 per step (epsilon-scaling, geomloss's default 0.5), the
  // iterations settling at each temperature.
  double scaling = 0.5;

  // Throws InputError unless blur > 0 and finite and 0 < scaling < 1.
  void check() const;
  nlohmann::json to_json() const;
};

}  // namespace molearn
