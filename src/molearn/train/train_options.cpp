#include "molearn/train/train_options.hpp"

namespace molearn {

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
          {"world_size", distributed.world_size}};
}

}  // namespace molearn
