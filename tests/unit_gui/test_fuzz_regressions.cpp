// The fuzz regressions of the GUI's request parser (tests/fuzz/fuzz_replay.hpp).
#include "../fuzz/fuzz_replay.hpp"

namespace molearn::fuzz {

TEST(FuzzRegressions, GuiRequest) { replay_regressions<GuiRequest>(); }

}  // namespace molearn::fuzz
