// Extra terms of the training loss, for programs that use molearn as a
// library (Python molearn's "subclassing a trainer"): a term is registered by
// name, chosen with TrainOptions::loss_terms (name -> weight), added to the
// training loss of every batch and logged per epoch as `train_<name>` in
// log.jsonl. See examples/cpp/custom_loss.cpp.
#pragma once

#include <torch/torch.h>

#include <functional>
#include <string>
#include <vector>

namespace molearn {

// What a term sees for one batch (this rank's share of it).
struct LossInputs {
  const torch::Tensor& input;           // [B, 3, atoms], scaled as in the dataset
  const torch::Tensor& reconstruction;  // [B, 3, atoms], the model's output for `input`
  const torch::Tensor& latent;          // [B, latent_dim]
  double angstrom_per_unit = 1;         // the dataset's std: scaled units -> Å
};

// Returns a scalar with gradient, the mean over the batch.
using LossTerm = std::function<torch::Tensor(const LossInputs&)>;

// Throws InputError when the name is empty, taken, or not a plain word
// (letters, digits, _), since it becomes a log key.
void register_loss_term(const std::string& name, LossTerm term);
// Throws InputError naming the registered terms when `name` is not one.
LossTerm find_loss_term(const std::string& name);
std::vector<std::string> loss_term_names();

}  // namespace molearn
