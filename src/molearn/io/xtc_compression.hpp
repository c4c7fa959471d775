// Decoder for the compressed coordinate block of GROMACS XTC frames (the
// "xdr3dfcoord" packing). Bit level only: the frame/record layout around it is
// in xtc_reader.hpp.
//
// No Debian package ships a library with this decoder (libxdrfile is not
// packaged; GROMACS keeps it internal), so it is written here from the format's
// description. Summary of the packing, as it matters for decoding:
//
//  * Coordinates are rounded to integers: i = round(x_nm * precision). The
//    frame header gives the integer bounding box minint..maxint.
//  * The bit stream is read most-significant bit first.
//  * A "large" atom stores its absolute position minus minint. If every axis
//    range fits in 24 bits, the three numbers are packed as one mixed-radix
//    integer (radices = axis ranges) whose bytes are sent least-significant
//    first; otherwise each axis is sent as a plain bit field.
//  * After each large atom, one flag bit says whether a new run code follows
//    (5 bits). The code carries a run length (a multiple of 3: three integers
//    per atom) and a -1/0/+1 adjustment of `smallidx`. Without the flag the
//    previous run length applies again.
//  * The run's atoms are "small": each is a delta from the previous atom,
//    packed as a mixed-radix integer of smallidx bits with all three radices
//    equal to kMagicInts[smallidx]. The first small atom is emitted before the
//    large one: writers swap them because in water the O-H distance is small
//    while consecutive O are far apart, so H,O,H compresses better than O,H,H.
//  * smallidx then moves by the adjustment, adapting the delta range to how
//    close the atoms currently are.
#pragma once

#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>

namespace molearn::xtc {

// Radices for the small-delta coding. Entry i is roughly 2^(i/3), chosen so
// that a triple of numbers below kMagicInts[i] packs into exactly i bits;
// entries below kFirstIdx are unused. This table is part of the format.
inline constexpr std::array<std::int32_t, 73> kMagicInts = {
    0,       0,       0,       0,       0,        0,        0,       0,       0,       8,       10,
    12,      16,      20,      25,      32,       40,       50,      64,      80,      101,     128,
    161,     203,     256,     322,     406,      512,      645,     812,     1024,    1290,    1625,
    2048,    2580,    3250,    4096,    5060,     6501,     8192,    10321,   13003,   16384,   20642,
    26007,   32768,   41285,   52015,   65536,    82570,    104031,  131072,  165140,  208063,  262144,
    330280,  416127,  524287,  660561,  832255,   1048576,  1321122, 1664510, 2097152, 2642245, 3329021,
    4194304, 5284491, 6658042, 8388607, 10568983, 13316085, 16777216};
inline constexpr int kFirstIdx = 9;                                   // smallest usable smallidx
inline constexpr int kLastIdx = static_cast<int>(kMagicInts.size());  // one past the largest

// Axis ranges above this are sent as separate bit fields, not one packed
// integer (the packed integer would exceed what the format allows, 72 bits).
inline constexpr std::int64_t kMaxPackedRange = 0xffffff;

// The fields of a compressed frame header that the decoder needs.
struct CompressedHeader {
  float precision = 1000;  // integer units per nm
  std::int32_t minint[3] = {0, 0, 0};
  std::int32_t maxint[3] = {0, 0, 0};
  std::int32_t smallidx = kFirstIdx;
};

// Number of bits a writer uses for a value below `range` (i.e. the bit width
// of `range` itself, not of range-1, capped at 32). Writers compute this the
// same way, so it must not be "improved".
inline int bits_for_range(std::uint64_t range) {
  const int w = std::bit_width(range);
  return w < 32 ? w : 32;
}

// Bits of a packed triple with radices r[0..2]: the bit width of their
// product (again the product itself, as writers do). Each range is at most
// 2^24, so the product fits in 72 bits; computed in two 64-bit halves.
int bits_for_ranges(const std::uint32_t ranges[3]);

// Throws FormatError when the header cannot describe a valid block (no
// file/frame context: the caller adds it).
void validate_header(const CompressedHeader& header);

// Reads a big-endian bit stream, most-significant bit first, from a bounded
// buffer. A 64-bit register holds the next bits left-aligned so that most
// reads are a shift; it is refilled 7 bytes at a time while at least 8 bytes
// remain. Every read is checked against the end of the buffer.
class BitReader {
 public:
  BitReader(const std::uint8_t* data, std::size_t size) : p_(data), end_(data + size) {}

  // Next n bits (1 <= n <= 32) as an unsigned number. Throws FormatError if
  // the buffer ends first.
  std::uint32_t read(int n) {
    if (count_ < n) {
      refill();
      if (count_ < n) [[unlikely]]
        ran_out(n);
    }
    const auto v = static_cast<std::uint32_t>(bits_ >> (64 - n));
    bits_ <<= n;
    count_ -= n;
    return v;
  }

  // Bits not yet consumed.
  std::size_t bits_left() const { return static_cast<std::size_t>(end_ - p_) * 8 + static_cast<std::size_t>(count_); }

 private:
  void refill() {
    if (end_ - p_ >= 8) {
      // Load 8 bytes but account only for the whole bytes that fit; the
      // extra low bits are the correct next bits, so OR-ing the same byte in
      // again at the next refill is harmless.
      std::uint64_t w;
      std::memcpy(&w, p_, 8);
      if constexpr (std::endian::native == std::endian::little) w = __builtin_bswap64(w);
      bits_ |= w >> count_;
      const int bytes = (63 - count_) >> 3;
      p_ += bytes;
      count_ += bytes * 8;
    } else {
      while (count_ <= 56 && p_ < end_) {
        bits_ |= static_cast<std::uint64_t>(*p_++) << (56 - count_);
        count_ += 8;
      }
    }
  }
  [[noreturn]] void ran_out(int n) const;

  const std::uint8_t* p_;
  const std::uint8_t* end_;
  std::uint64_t bits_ = 0;  // next bits, left-aligned
  int count_ = 0;           // how many of them are valid
};

// Decodes the `natoms` positions of one compressed block (`data`, `size`
// bytes, padding excluded or not) into out[0 .. 3*natoms). Each value is
// computed in float as (float(i) * (1/precision)) * unit_scale, i.e. exactly
// the reference readers' nm value, then scaled (10 gives Å as MDTraj does).
// Throws FormatError (without file/frame context) on corrupt data; never
// reads outside `data` nor writes outside `out`.
void decompress_coords(const CompressedHeader& header, const std::uint8_t* data, std::size_t size, std::size_t natoms,
                       float unit_scale, float* out);

}  // namespace molearn::xtc
