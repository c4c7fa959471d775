// Mixed precision: convolutions and matrix products in bfloat16 on CPUs that
// compute it natively (AVX-512 BF16), with fp32 weights, optimiser state,
// batch-norm statistics and losses. libtorch's CPU autocast does the casting;
// this file decides when it is on.
#pragma once

#include <string>

namespace molearn {

// Whether this CPU computes bfloat16 natively (AVX512_BF16, from cpuid):
// elsewhere oneDNN emulates it and bf16 is slower than fp32.
bool cpu_has_native_bf16();

// "fp32" or "bf16" for a requested "fp32", "bf16" or "auto" (bf16 only with
// native support). Throws InputError for anything else.
std::string resolve_precision(const std::string& requested);

// Whether a requested precision runs the model in bf16 (resolve_precision).
inline bool use_bf16(const std::string& requested) { return resolve_precision(requested) == "bf16"; }

// The log line that says which precision a request ran in, and why:
// "precision: bf16 (--precision auto; this CPU computes bf16 natively)".
// Empty for "fp32", which needs no explaining.
std::string precision_note(const std::string& requested);

// bfloat16 autocast for the code in its scope (this thread), when `enabled`.
// Outputs of autocast ops are bfloat16: cast what leaves the model back to
// fp32 (the losses and the physics are computed in fp32).
class Bf16Autocast {
 public:
  explicit Bf16Autocast(bool enabled);
  ~Bf16Autocast();
  Bf16Autocast(const Bf16Autocast&) = delete;
  Bf16Autocast& operator=(const Bf16Autocast&) = delete;

 private:
  bool enabled_;
  bool was_enabled_ = false;
};

}  // namespace molearn
