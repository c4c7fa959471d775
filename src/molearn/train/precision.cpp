#include "molearn/train/precision.hpp"

#include <ATen/autocast_mode.h>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif

#include "molearn/core/error.hpp"

namespace molearn {

bool cpu_has_native_bf16() {
#if defined(__x86_64__) || defined(__i386__)
  // CPUID leaf 7, sub-leaf 1: EAX bit 5 is AVX512_BF16.
  unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
  if (!__get_cpuid_count(7, 1, &eax, &ebx, &ecx, &edx)) return false;
  return (eax >> 5) & 1u;
#else
  return false;
#endif
}

std::string resolve_precision(const std::string& requested) {
  if (requested == "fp32" || requested == "bf16") return requested;
  if (requested == "auto") return cpu_has_native_bf16() ? "bf16" : "fp32";
  throw InputError("--precision must be fp32, bf16 or auto, got '" + requested + "'");
}

std::string precision_note(const std::string& requested) {
  if (requested == "fp32") return "";
  return "precision: " + resolve_precision(requested) + " (--precision " + requested + "; this CPU " +
         (cpu_has_native_bf16() ? "computes bf16 natively" : "has no native bf16") + ")";
}

Bf16Autocast::Bf16Autocast(bool enabled) : enabled_(enabled) {
  if (!enabled_) return;
  was_enabled_ = at::autocast::is_cpu_enabled();
  at::autocast::set_cpu_enabled(true);
  at::autocast::set_autocast_cpu_dtype(at::kBFloat16);
  at::autocast::increment_nesting();
}

Bf16Autocast::~Bf16Autocast() {
  if (!enabled_) return;
  // The bf16 copies of the weights are cached for the outermost scope only.
  if (at::autocast::decrement_nesting() == 0) at::autocast::clear_cache();
  at::autocast::set_cpu_enabled(was_enabled_);
}

}  // namespace molearn
