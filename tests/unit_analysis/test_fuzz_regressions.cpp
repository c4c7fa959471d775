// The fuzz regressions of the reference-table and NPY readers (tests/fuzz/fuzz_replay.hpp).
#include "../fuzz/fuzz_replay.hpp"

namespace molearn::fuzz {

TEST(FuzzRegressions, Dope) { replay_regressions<Dope>(); }
TEST(FuzzRegressions, Ramachandran) { replay_regressions<Ramachandran>(); }
TEST(FuzzRegressions, Npy) { replay_regressions<Npy>(); }

}  // namespace molearn::fuzz
