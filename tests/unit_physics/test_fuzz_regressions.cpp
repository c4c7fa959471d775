// The fuzz regressions of the force-field reader (tests/fuzz/fuzz_replay.hpp).
#include "../fuzz/fuzz_replay.hpp"

namespace molearn::fuzz {

TEST(FuzzRegressions, Forcefield) { replay_regressions<Forcefield>(); }

}  // namespace molearn::fuzz
