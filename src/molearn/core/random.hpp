// Seeded randomness that gives the same result on every platform and standard
// library (std::shuffle and std::uniform_int_distribution are
// implementation-defined; std::mt19937_64 is not).
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <random>
#include <vector>

namespace molearn {

// Uniform integer in [0, bound), bound > 0, without modulo bias.
inline std::uint64_t uniform_below(std::mt19937_64& rng, std::uint64_t bound) {
  const std::uint64_t limit = UINT64_MAX - UINT64_MAX % bound;
  std::uint64_t x;
  do x = rng();
  while (x >= limit);
  return x % bound;
}

// Fisher-Yates permutation of 0..n-1.
inline std::vector<std::size_t> seeded_permutation(std::size_t n, std::mt19937_64& rng) {
  std::vector<std::size_t> p(n);
  for (std::size_t i = 0; i < n; ++i) p[i] = i;
  for (std::size_t i = n; i > 1; --i) std::swap(p[i - 1], p[uniform_below(rng, i)]);
  return p;
}

// Uniform double in [0, 1), from the generator's top 53 bits.
inline double uniform_unit(std::mt19937_64& rng) { return static_cast<double>(rng() >> 11) * 0x1.0p-53; }

// Standard normal deviates (Box-Muller), `count` of them.
inline std::vector<double> standard_normals(std::size_t count, std::mt19937_64& rng) {
  std::vector<double> out(count);
  for (std::size_t i = 0; i < count; i += 2) {
    const double radius = std::sqrt(-2.0 * std::log(1.0 - uniform_unit(rng)));  // 1 - u: never log(0)
    const double angle = 6.283185307179586 * uniform_unit(rng);
    out[i] = radius * std::cos(angle);
    if (i + 1 < count) out[i + 1] = radius * std::sin(angle);
  }
  return out;
}

}  // namespace molearn
