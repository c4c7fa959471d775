// The libFuzzer entry point of every fuzz target: CMakeLists.txt builds this
// file once per reader, with MOLEARN_FUZZ_TARGET naming its struct in
// fuzz_readers.hpp (Pdb, Dcd, ...), which says what is read.
#include "fuzz_readers.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  return molearn::fuzz::run<molearn::fuzz::MOLEARN_FUZZ_TARGET>(data, size);
}
