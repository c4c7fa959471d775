#include "molearn/io/dcd_writer.hpp"

#include <algorithm>
#include <bit>
#include <climits>
#include <cmath>
#include <cstring>

#include "molearn/core/error.hpp"

#ifndef MOLEARN_VERSION
#define MOLEARN_VERSION "unknown"
#endif

namespace molearn {

namespace {

constexpr double kAkmaPs = 0.04888821;  // CHARMM's AKMA time unit in ps
constexpr bool kHostLittle = std::endian::native == std::endian::little;
// kMaxCoordinate (frame.hpp), compared as the bits of |x|, which order as
// the values do and put NaN and infinity above.
constexpr std::uint32_t kMaxMagnitudeBits = std::bit_cast<std::uint32_t>(kMaxCoordinate);
constexpr std::uint32_t kSignMask = 0x80000000u;

// DCD files written here are little endian whatever the host.
void put_u32(unsigned char* p, std::uint32_t v) {
  if constexpr (!kHostLittle) v = __builtin_bswap32(v);
  std::memcpy(p, &v, 4);
}
void put_i32(unsigned char* p, std::int32_t v) { put_u32(p, static_cast<std::uint32_t>(v)); }
void put_f64(unsigned char* p, double v) {
  std::uint64_t u = std::bit_cast<std::uint64_t>(v);
  if constexpr (!kHostLittle) u = __builtin_bswap64(u);
  std::memcpy(p, &u, 8);
}

// Byte offsets of header fields that close() fills in: after the 4-byte
// record marker and "CORD" come ICNTRL[0] = NSET and ICNTRL[3] = NSTEP.
constexpr std::streamoff kNsetOffset = 8;
constexpr std::streamoff kNstepOffset = 20;

constexpr std::size_t kTitleLine = 80;

void put_title_line(unsigned char* p, std::string text) {
  text.resize(kTitleLine, ' ');  // CHARMM pads title lines with spaces
  std::memcpy(p, text.data(), kTitleLine);
}

}  // namespace

DcdWriter::DcdWriter(std::string path, std::size_t atom_count, DcdWriterOptions options)
    : file_(std::move(path)), atom_count_(atom_count), options_(options) {
  // Records carry their byte count in a signed 32-bit marker.
  if (atom_count_ == 0 || atom_count_ > INT_MAX / 4)
    throw InputError(file_.path() + ": cannot write a DCD file of " + std::to_string(atom_count_) + " atoms");
  if (options_.step_interval < 1)
    throw InputError(file_.path() + ": DCD step interval must be at least 1, not " +
                     std::to_string(options_.step_interval));
  if (!std::isfinite(options_.timestep_ps) || options_.timestep_ps < 0)
    throw InputError(file_.path() + ": invalid DCD time step " + std::to_string(options_.timestep_ps) + " ps");

  // Header record: "CORD" + ICNTRL[20].
  unsigned char header[4 + 84 + 4] = {};
  put_u32(header, 84);
  std::memcpy(header + 4, "CORD", 4);
  unsigned char* icntrl = header + 8;
  put_i32(icntrl + 4 * 0, 0);  // NSET, set by close()
  put_i32(icntrl + 4 * 1, options_.start_step);
  put_i32(icntrl + 4 * 2, options_.step_interval);
  put_i32(icntrl + 4 * 3, 0);  // NSTEP, set by close()
  put_u32(icntrl + 4 * 9, std::bit_cast<std::uint32_t>(static_cast<float>(options_.timestep_ps / kAkmaPs)));
  put_i32(icntrl + 4 * 10, options_.with_unit_cell ? 1 : 0);
  put_i32(icntrl + 4 * 19, 24);  // CHARMM version: tells readers this is CHARMM layout
  put_u32(header + 88, 84);

  // Title record: two 80-character lines, no date so output is reproducible.
  unsigned char title[4 + 4 + 2 * kTitleLine + 4];
  put_u32(title, 4 + 2 * kTitleLine);
  put_i32(title + 4, 2);
  put_title_line(title + 8, "Created by molearn");
  put_title_line(title + 8 + kTitleLine, std::string("REMARKS molearn ") + MOLEARN_VERSION + " DCD writer");
  put_u32(title + 8 + 2 * kTitleLine, 4 + 2 * kTitleLine);

  unsigned char natom[12];
  put_u32(natom, 4);
  put_i32(natom + 4, static_cast<std::int32_t>(atom_count_));
  put_u32(natom + 8, 4);

  std::ofstream& out = file_.stream();
  out.write(reinterpret_cast<const char*>(header), sizeof header);
  out.write(reinterpret_cast<const char*>(title), sizeof title);
  out.write(reinterpret_cast<const char*>(natom), sizeof natom);
  check_stream();
}

void DcdWriter::check_stream() {
  if (!file_.stream()) throw OutputError(file_.path() + ": write failed (disk full or file system error)");
}

void DcdWriter::write(const Frame& frame) {
  if (closed_) throw OutputError(file_.path() + ": DCD writer used after close()");
  const std::string where = file_.path() + ": frame " + std::to_string(frames_);
  if (frame.xyz.size() != 3 * atom_count_)
    throw InputError(where + " has " + std::to_string(frame.xyz.size() / 3) + " atoms, expected " +
                     std::to_string(atom_count_));
  if (options_.with_unit_cell && !frame.cell)
    throw InputError(where + " has no unit cell, but the DCD file was opened with one");
  if (frames_ >= std::size_t(INT_MAX)) throw OutputError(file_.path() + ": too many frames for a DCD file");

  const std::size_t n = atom_count_;
  const std::size_t record = 4 * n;
  const std::size_t cell_bytes = options_.with_unit_cell ? 4 + 48 + 4 : 0;
  buffer_.resize(cell_bytes + 3 * (4 + record + 4));
  unsigned char* p = buffer_.data();
  if (options_.with_unit_cell) {
    // Stored order A, gamma, B, beta, alpha, C; angles in degrees as OpenMM
    // and MDTraj write them (readers tell them from cosines by their range).
    const UnitCell& c = *frame.cell;
    put_u32(p, 48);
    const double values[6] = {c.a, c.gamma, c.b, c.beta, c.alpha, c.c};
    for (int k = 0; k < 6; ++k) put_f64(p + 4 + 8 * k, values[k]);
    put_u32(p + 52, 48);
    p += cell_bytes;
  }
  std::uint32_t bad = 0;
  const float* xyz = frame.xyz.data();
  for (std::size_t axis = 0; axis < 3; ++axis) {
    put_u32(p, static_cast<std::uint32_t>(record));
    p += 4;
    for (std::size_t i = 0; i < n; ++i) {
      const std::uint32_t u = std::bit_cast<std::uint32_t>(xyz[3 * i + axis]);
      bad |= (u & ~kSignMask) > kMaxMagnitudeBits;
      put_u32(p + 4 * i, u);
    }
    p += record;
    put_u32(p, static_cast<std::uint32_t>(record));
    p += 4;
  }
  if (bad)
    throw InputError(where + " has a coordinate that is not finite or beyond +-1e5 A, which molearn's readers refuse " +
                     "as unphysical");

  file_.stream().write(reinterpret_cast<const char*>(buffer_.data()), static_cast<std::streamsize>(buffer_.size()));
  check_stream();
  ++frames_;
}

void DcdWriter::flush() {
  file_.stream().flush();
  check_stream();
}

void DcdWriter::close() {
  if (closed_) return;
  closed_ = true;
  std::ofstream& out = file_.stream();
  unsigned char value[4];
  put_i32(value, static_cast<std::int32_t>(frames_));
  out.seekp(kNsetOffset);
  out.write(reinterpret_cast<const char*>(value), 4);
  // NSTEP: the step of the last frame, as NAMD writes it.
  const long long last = frames_ == 0
                             ? options_.start_step
                             : options_.start_step + (static_cast<long long>(frames_) - 1) * options_.step_interval;
  put_i32(value, static_cast<std::int32_t>(std::min<long long>(last, INT_MAX)));
  out.seekp(kNstepOffset);
  out.write(reinterpret_cast<const char*>(value), 4);
  out.seekp(0, std::ios::end);
  file_.commit();  // throws OutputError if any write failed
}

}  // namespace molearn
