// What a training checkpoint holds, as plain JSON, for `molearn info`:
// without torch in the header, so the command line that prints it needs none.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

namespace molearn {

// Loads the checkpoint (every record's checksum and every weight checked, as
// for generate) and describes it: the architecture and its options, the
// weights' count, the trainer and the run's options, the epochs done and the
// best one with its validation RMSD, the dataset and its topology. Throws
// InputError or FormatError as load_checkpoint does.
nlohmann::json checkpoint_summary(const std::string& path);

}  // namespace molearn
