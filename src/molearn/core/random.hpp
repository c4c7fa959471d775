// Seeded randomness that gives the same result on every platform and standard
// library (std::shuffle and std::uniform_int_distribution are
// implementation-defined; std::mt19937_64 is not).
#pragma once

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

}  // namespace molearn
