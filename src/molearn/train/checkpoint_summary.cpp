#include "molearn/train/checkpoint_summary.hpp"

#include "molearn/train/checkpoint.hpp"

namespace molearn {

nlohmann::json checkpoint_summary(const std::string& path) {
  const LoadedCheckpoint loaded = load_checkpoint(path);
  const CheckpointState& s = loaded.state;
  nlohmann::json model = s.model.to_json();
  model.erase("atom_names");  // the topology below names them
  std::int64_t weights = 0;
  for (const auto& p : loaded.model->parameters()) weights += p.numel();
  nlohmann::json best = {{"epoch", s.best_epoch}, {"selection_loss", s.best_valid_loss}};
  for (const auto& record : s.history)
    if (record.value("epoch", 0) == s.best_epoch)
      for (const char* key : {"valid_rmsd", "valid_bond_rmsd", "train_loss"})
        if (record.contains(key)) best[key] = record.at(key);
  return {{"checkpoint", path},
          {"model", model},
          {"weights", weights},
          {"trainer", s.trainer()},
          {"options", s.options},
          {"epochs", s.epoch},
          {"best", best},
          {"dataset", s.dataset_path},
          {"mean", s.mean},
          {"std", s.std},
          {"residues", s.topology.residue_count()}};
}

}  // namespace molearn
