// The fuzz regressions of the readers in molearn_lib (tests/fuzz/fuzz_replay.hpp),
// among them the checksum reader of checkpoints (torch-free).
#include "../fuzz/fuzz_replay.hpp"

namespace molearn::fuzz {

TEST(FuzzRegressions, Pdb) { replay_regressions<Pdb>(); }
TEST(FuzzRegressions, Mmcif) { replay_regressions<Mmcif>(); }
TEST(FuzzRegressions, Dcd) { replay_regressions<Dcd>(); }
TEST(FuzzRegressions, Xtc) { replay_regressions<Xtc>(); }
TEST(FuzzRegressions, Dataset) { replay_regressions<Dataset>(); }
TEST(FuzzRegressions, Checkpoint) { replay_regressions<Checkpoint>(); }

}  // namespace molearn::fuzz
