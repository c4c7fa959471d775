// Decoder for XTC's compressed coordinates, written from the format's
// description (see xtc_compression.hpp for the summary). No code is taken from
// GROMACS' xdrfile.c or MDTraj; the structure here is our own: integers are
// unpacked with native 32/64-bit division where they fit instead of byte-wise
// long division, and the smallidx state is a single number from which the
// delta offset is recomputed.
#include "molearn/io/xtc_compression.hpp"

#include <cmath>
#include <string>

#include "molearn/core/error.hpp"

namespace molearn::xtc {

namespace {

// Packed integers are sent as bytes, least-significant byte first, each byte
// (and a final partial byte of nbits % 8 bits) most-significant bit first.
// Reads such an integer of n <= 32 bits.
inline std::uint32_t read_le_bytes(BitReader& in, int n) {
  const std::uint32_t v = in.read(n);
  const int full = n >> 3;
  const int rem = n & 7;
  const std::uint32_t whole = v >> rem;  // the full bytes, first byte highest
  const std::uint32_t tail = v & ((1u << rem) - 1);
  // Reverse the byte order: put the `full` bytes at the top of a 64-bit word
  // (two shifts, so that full == 0 never shifts by 64) and byte-swap.
  const std::uint64_t top = (static_cast<std::uint64_t>(whole) << 32) << (32 - 8 * full);
  const auto le = static_cast<std::uint32_t>(__builtin_bswap64(top));
  return le | static_cast<std::uint32_t>(static_cast<std::uint64_t>(tail) << (8 * full));
}

// Divides the 96-bit number limbs[2]:limbs[1]:limbs[0] by d in place and
// returns the remainder. The partial dividend stays below d * 2^32 < 2^64.
inline std::uint32_t divmod96(std::uint32_t limbs[3], std::uint32_t d) {
  std::uint64_t r = 0;
  for (int k = 2; k >= 0; --k) {
    const std::uint64_t cur = (r << 32) | limbs[k];
    limbs[k] = static_cast<std::uint32_t>(cur / d);
    r = cur % d;
  }
  return static_cast<std::uint32_t>(r);
}

// Unpacks a mixed-radix triple of `nbits` bits: the writer packed
// N = (v0 * r1 + v1) * r2 + v2. Uses the narrowest arithmetic that holds N;
// nbits <= 72 by construction (radices <= 2^24).
[[gnu::always_inline]] inline void unpack_triple(BitReader& in, int nbits, const std::uint32_t r[3],
                                                 std::uint32_t v[3]) {
  if (nbits <= 32) {
    std::uint32_t n = read_le_bytes(in, nbits);
    v[2] = n % r[2];
    n /= r[2];
    v[1] = n % r[1];
    v[0] = n / r[1];
  } else if (nbits <= 64) {
    std::uint64_t n = read_le_bytes(in, 32);
    n |= static_cast<std::uint64_t>(read_le_bytes(in, nbits - 32)) << 32;
    v[2] = static_cast<std::uint32_t>(n % r[2]);
    n /= r[2];
    v[1] = static_cast<std::uint32_t>(n % r[1]);
    // A corrupt stream may give a quotient above 32 bits; the caller's
    // range check rejects it, so truncation here is harmless.
    v[0] = static_cast<std::uint32_t>(n / r[1]);
  } else {
    std::uint32_t limbs[3];
    limbs[0] = read_le_bytes(in, 32);
    limbs[1] = read_le_bytes(in, 32);
    limbs[2] = read_le_bytes(in, nbits - 64);
    v[2] = divmod96(limbs, r[2]);
    v[1] = divmod96(limbs, r[1]);
    v[0] = (limbs[1] | limbs[2]) != 0 ? 0xffffffffu : limbs[0];  // out of range if too big
  }
}

// Division of a 32-bit number by a fixed divisor d >= 2 as a multiplication
// by the 64-bit reciprocal c = ceil(2^64 / d): floor(n / d) is the high half
// of c * n for every 32-bit n (Lemire, Kaser & Kurz 2019). The small-atom
// radix changes rarely (with smallidx) while every small atom needs two
// divisions, so this replaces a hardware divide by a multiply.
__extension__ typedef unsigned __int128 uint128;  // GCC/Clang; __extension__ keeps -pedantic quiet

struct Reciprocal {
  std::uint64_t c = 0;
  std::uint32_t d = 1;
  explicit Reciprocal(std::uint32_t divisor) : c(~std::uint64_t{0} / divisor + 1), d(divisor) {}
  std::uint32_t quotient(std::uint32_t n) const {
    return static_cast<std::uint32_t>((static_cast<uint128>(c) * n) >> 64);
  }
};

// unpack_triple() for the small atoms: three equal radices, <= 32 bits.
inline void unpack_small_triple(BitReader& in, int nbits, const Reciprocal& radix, std::uint32_t v[3]) {
  const std::uint32_t n = read_le_bytes(in, nbits);
  const std::uint32_t q = radix.quotient(n);
  v[2] = n - q * radix.d;
  v[0] = radix.quotient(q);
  v[1] = q - v[0] * radix.d;
}

[[noreturn]] void corrupt(const std::string& what) { throw FormatError(what); }

}  // namespace

int bits_for_ranges(const std::uint32_t ranges[3]) {
  // product = ranges[0] * ranges[1] * ranges[2] < 2^72, kept as hi * 2^32 + lo
  // with lo < 2^32.
  const std::uint64_t p01 = static_cast<std::uint64_t>(ranges[0]) * ranges[1];  // < 2^48
  const std::uint64_t a = (p01 & 0xffffffffu) * ranges[2];                      // < 2^56
  const std::uint64_t b = (p01 >> 32) * ranges[2];                              // < 2^40
  const std::uint64_t hi = b + (a >> 32);
  const std::uint64_t lo = a & 0xffffffffu;
  return hi != 0 ? 32 + std::bit_width(hi) : std::bit_width(lo);
}

void validate_header(const CompressedHeader& h) {
  if (!std::isfinite(h.precision) || h.precision <= 0)
    corrupt("precision is " + std::to_string(h.precision) + ", expected a positive number");
  for (int k = 0; k < 3; ++k)
    if (h.minint[k] > h.maxint[k])
      corrupt("integer bounding box has minint[" + std::to_string(k) + "] = " + std::to_string(h.minint[k]) +
              " > maxint = " + std::to_string(h.maxint[k]));
  if (h.smallidx < kFirstIdx || h.smallidx >= kLastIdx)
    corrupt("smallidx is " + std::to_string(h.smallidx) + ", expected " + std::to_string(kFirstIdx) + ".." +
            std::to_string(kLastIdx - 1));
}

void BitReader::ran_out(int n) const {
  corrupt("compressed coordinates end early: needed " + std::to_string(n) + " more bits, " +
          std::to_string(bits_left()) + " left");
}

void decompress_coords(const CompressedHeader& h, const std::uint8_t* data, std::size_t size, std::size_t natoms,
                       float unit_scale, float* out) {
  validate_header(h);

  // Large atoms: absolute position minus minint, below range[k] per axis.
  std::uint64_t span[3];   // 1 .. 2^32
  std::uint32_t range[3];  // the same as packing radices (meaningful when packed)
  int field_bits[3];       // used instead when some axis is too wide to pack
  bool packed = true;
  for (int k = 0; k < 3; ++k) {
    span[k] = static_cast<std::uint64_t>(std::int64_t{h.maxint[k]} - h.minint[k] + 1);
    range[k] = static_cast<std::uint32_t>(span[k] <= 0xffffffffu ? span[k] : 0xffffffffu);
    field_bits[k] = bits_for_range(span[k]);
    if (span[k] > kMaxPackedRange) packed = false;
  }
  const int packed_bits = packed ? bits_for_ranges(range) : 0;
  const std::int64_t minint[3] = {h.minint[0], h.minint[1], h.minint[2]};

  // Same float operations as the reference readers: int -> float, times the
  // float reciprocal of the precision; only then the unit conversion.
  const float inv_precision = 1.0f / h.precision;
  auto emit = [&](const std::int64_t c[3]) {
    out[0] = (static_cast<float>(c[0]) * inv_precision) * unit_scale;
    out[1] = (static_cast<float>(c[1]) * inv_precision) * unit_scale;
    out[2] = (static_cast<float>(c[2]) * inv_precision) * unit_scale;
    out += 3;
  };

  BitReader in(data, size);
  int smallidx = h.smallidx;
  // Deltas of small atoms are sent offset by half their radix, so that they
  // are non-negative. Both follow smallidx.
  std::uint32_t small_radix[3];
  Reciprocal small_reciprocal(8);
  std::int64_t small_offset = 0;
  auto set_small = [&] {
    const auto radix = static_cast<std::uint32_t>(kMagicInts[smallidx]);
    small_radix[0] = small_radix[1] = small_radix[2] = radix;
    small_reciprocal = Reciprocal(radix);
    small_offset = radix / 2;
  };
  set_small();

  int run = 0;  // ints in the current run (3 per small atom); persists when no new code is sent
  std::size_t i = 0;
  while (i < natoms) {
    // The large atom.
    std::uint32_t u[3];
    if (packed) {
      unpack_triple(in, packed_bits, range, u);
    } else {
      u[0] = in.read(field_bits[0]);
      u[1] = in.read(field_bits[1]);
      u[2] = in.read(field_bits[2]);
    }
    if (u[0] >= span[0] || u[1] >= span[1] || u[2] >= span[2]) [[unlikely]]
      corrupt("atom " + std::to_string(i) + " decodes outside the header's integer bounding box");
    const std::int64_t large[3] = {minint[0] + u[0], minint[1] + u[1], minint[2] + u[2]};
    ++i;

    // Run code: 5 bits = run + (smallidx change + 1), run a multiple of 3.
    int smallidx_change = 0;
    if (in.read(1)) {
      const int code = static_cast<int>(in.read(5));
      smallidx_change = code % 3 - 1;
      run = code - code % 3;
    }

    if (run > 0) {
      const std::size_t n_small = static_cast<std::size_t>(run / 3);
      if (n_small > natoms - i) [[unlikely]]
        corrupt("a run of " + std::to_string(n_small) + " small atoms after atom " + std::to_string(i - 1) +
                " goes past the atom count " + std::to_string(natoms));
      std::int64_t prev[3] = {large[0], large[1], large[2]};
      for (std::size_t k = 0; k < n_small; ++k) {
        std::uint32_t d[3];
        if (smallidx <= 32)
          unpack_small_triple(in, smallidx, small_reciprocal, d);
        else
          unpack_triple(in, smallidx, small_radix, d);
        const std::int64_t cur[3] = {prev[0] + d[0] - small_offset, prev[1] + d[1] - small_offset,
                                     prev[2] + d[2] - small_offset};
        emit(cur);
        // Writers swap the large atom with the first small one (water: H,O
        // -> O,H); the next delta is still taken from that first small atom.
        if (k == 0) emit(large);
        prev[0] = cur[0];
        prev[1] = cur[1];
        prev[2] = cur[2];
      }
      i += n_small;
    } else {
      emit(large);
    }

    if (smallidx_change != 0) {
      smallidx += smallidx_change;
      if (i < natoms) {  // an out-of-range value after the last atom is never used
        if (smallidx < kFirstIdx || smallidx >= kLastIdx) [[unlikely]]
          corrupt("smallidx moves to " + std::to_string(smallidx) + " after atom " + std::to_string(i - 1) +
                  ", expected " + std::to_string(kFirstIdx) + ".." + std::to_string(kLastIdx - 1));
        set_small();
      }
    }
  }
}

}  // namespace molearn::xtc
