// The fuzz regressions of the reference-table, NPY and scan-folder readers (tests/fuzz/fuzz_replay.hpp).
#include "../fuzz/fuzz_replay.hpp"

namespace molearn::fuzz {

TEST(FuzzRegressions, Dope) { replay_regressions<Dope>(); }
TEST(FuzzRegressions, Ramachandran) { replay_regressions<Ramachandran>(); }
TEST(FuzzRegressions, Npy) { replay_regressions<Npy>(); }
TEST(FuzzRegressions, Scan) { replay_regressions<Scan>(); }

}  // namespace molearn::fuzz
