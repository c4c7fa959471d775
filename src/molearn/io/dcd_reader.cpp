#include "molearn/io/dcd_reader.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cmath>
#include <cstring>

#include "molearn/core/error.hpp"

namespace molearn {

namespace {

constexpr double kAkmaPs = 0.04888821;  // CHARMM's AKMA time unit in ps
constexpr double kDegPerRad = 57.295779513082320876;
constexpr bool kHostLittle = std::endian::native == std::endian::little;

std::uint32_t load_u32(const unsigned char* p, bool swap) {
  std::uint32_t v;
  std::memcpy(&v, p, 4);
  return swap ? __builtin_bswap32(v) : v;
}

std::uint64_t load_u64(const unsigned char* p, bool swap) {
  std::uint64_t v;
  std::memcpy(&v, p, 8);
  return swap ? __builtin_bswap64(v) : v;
}

std::int32_t load_i32(const unsigned char* p, bool swap) { return static_cast<std::int32_t>(load_u32(p, swap)); }

float load_f32(const unsigned char* p, bool swap) { return std::bit_cast<float>(load_u32(p, swap)); }
double load_f64(const unsigned char* p, bool swap) { return std::bit_cast<double>(load_u64(p, swap)); }

// A float is NaN or infinite exactly when its exponent bits are all ones.
// Testing the bits keeps the copy loops below branch-free and vectorizable.
constexpr std::uint32_t kExponentMask = 0x7f800000u;

// Copies n float32 of one coordinate record into every third float of `out`.
// Returns true if any value is not finite.
template <bool Swap>
bool unpack_axis(const unsigned char* src, std::size_t n, float* out) {
  std::uint32_t bad = 0;
  for (std::size_t i = 0; i < n; ++i) {
    std::uint32_t u;
    std::memcpy(&u, src + 4 * i, 4);
    if constexpr (Swap) u = __builtin_bswap32(u);
    bad |= (u & kExponentMask) == kExponentMask;
    out[3 * i] = std::bit_cast<float>(u);
  }
  return bad != 0;
}

// Same for a frame that stores only the free (non-fixed) atoms.
template <bool Swap>
bool scatter_axis(const unsigned char* src, const std::uint32_t* atom, std::size_t n, float* out) {
  std::uint32_t bad = 0;
  for (std::size_t i = 0; i < n; ++i) {
    std::uint32_t u;
    std::memcpy(&u, src + 4 * i, 4);
    if constexpr (Swap) u = __builtin_bswap32(u);
    bad |= (u & kExponentMask) == kExponentMask;
    out[3 * std::size_t(atom[i])] = std::bit_cast<float>(u);
  }
  return bad != 0;
}

// CHARMM and NAMD >= 2.5 store the cosines of the cell angles (which keeps
// 90 degrees exact); OpenMM, MDTraj and old NAMD store degrees. Real cells
// have angles far above 1 degree, so values in [-1, 1] are cosines.
std::optional<UnitCell> unit_cell_from_record(const double u[6]) {
  // Stored order: A, gamma, B, beta, alpha, C.
  if (u[0] == 0 && u[2] == 0 && u[5] == 0) return std::nullopt;  // no box (e.g. vacuum NAMD run)
  UnitCell cell;
  cell.a = u[0];
  cell.b = u[2];
  cell.c = u[5];
  double gamma = u[1], beta = u[3], alpha = u[4];
  auto is_cosine = [](double x) { return x >= -1.0 && x <= 1.0; };
  if (is_cosine(alpha) && is_cosine(beta) && is_cosine(gamma)) {
    // 90 - asin(x) rather than acos(x): asin(0) is exactly 0.
    alpha = 90.0 - std::asin(alpha) * kDegPerRad;
    beta = 90.0 - std::asin(beta) * kDegPerRad;
    gamma = 90.0 - std::asin(gamma) * kDegPerRad;
  }
  cell.alpha = alpha;
  cell.beta = beta;
  cell.gamma = gamma;
  return cell;
}

std::string printable(const unsigned char* p, std::size_t n) {
  std::string s;
  for (std::size_t i = 0; i < n; ++i) s += (p[i] >= 32 && p[i] < 127) ? char(p[i]) : '?';
  return s;
}

}  // namespace

DcdReader::DcdReader(std::string path) : path_(std::move(path)) {
  fd_ = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd_ < 0) throw InputError(path_ + ": cannot open file: " + std::strerror(errno));
  try {
    struct stat st;
    if (::fstat(fd_, &st) != 0) throw InputError(path_ + ": cannot stat file: " + std::strerror(errno));
    if (!S_ISREG(st.st_mode)) throw InputError(path_ + ": not a regular file");
    file_size_ = static_cast<std::uint64_t>(st.st_size);
    // Frames are read front to back: let the kernel read ahead generously.
    ::posix_fadvise(fd_, 0, 0, POSIX_FADV_SEQUENTIAL);
    read_header();
  } catch (...) {
    ::close(fd_);
    throw;
  }
}

DcdReader::~DcdReader() {
  if (fd_ >= 0) ::close(fd_);
}

bool DcdReader::read_at(std::uint64_t offset, void* data, std::size_t size) {
  auto* out = static_cast<unsigned char*>(data);
  while (size > 0) {
    const ssize_t n = ::pread(fd_, out, size, static_cast<off_t>(offset));
    if (n < 0) {
      if (errno == EINTR) continue;
      throw InputError(path_ + ": read error: " + std::strerror(errno));
    }
    if (n == 0) return false;
    out += n;
    offset += static_cast<std::uint64_t>(n);
    size -= static_cast<std::size_t>(n);
  }
  return true;
}

std::uint64_t DcdReader::marker_at(const unsigned char* p) const {
  return marker_size_ == 4 ? load_u32(p, swap_) : load_u64(p, swap_);
}

std::vector<unsigned char> DcdReader::read_header_record(std::uint64_t& offset, const char* what) {
  const std::size_t m = static_cast<std::size_t>(marker_size_);
  unsigned char mark[8];
  if (!read_at(offset, mark, m))
    throw FormatError(path_ + ": truncated header (the file ends before the " + what + " record)");
  const std::uint64_t length = marker_at(mark);
  if (length > file_size_ - offset - m)
    throw FormatError(path_ + ": corrupt header: the " + what + " record claims " + std::to_string(length) +
                      " bytes, more than the file holds");
  std::vector<unsigned char> payload(length);
  if (!read_at(offset + m, payload.data(), payload.size()) || !read_at(offset + m + length, mark, m))
    throw FormatError(path_ + ": truncated header (the file ends inside the " + what + " record)");
  const std::uint64_t end = marker_at(mark);
  if (end != length)
    throw FormatError(path_ + ": header: corrupt " + what + " record (expected marker " + std::to_string(length) +
                      ", found " + std::to_string(end) + ")");
  offset += 2 * m + length;
  return payload;
}

void DcdReader::read_header() {
  // The first record is always 84 bytes long ("CORD" + 20 int32); its marker
  // tells the byte order and whether markers are 4 or 8 bytes wide.
  unsigned char head[12] = {};
  if (file_size_ < 12 || !read_at(0, head, 12))
    throw FormatError(path_ + ": not a DCD file (only " + std::to_string(file_size_) + " bytes)");
  const std::uint32_t raw0 = load_u32(head, false);
  const std::uint32_t raw1 = load_u32(head + 4, false);
  const std::uint32_t as_little = kHostLittle ? raw0 : __builtin_bswap32(raw0);
  const std::uint32_t as_big = kHostLittle ? __builtin_bswap32(raw0) : raw0;
  const std::uint32_t next_as_big = kHostLittle ? __builtin_bswap32(raw1) : raw1;
  // A 64-bit marker 84 reads as 84 followed by 0 (little endian) or as 0
  // followed by 84 (big endian); the 4-byte case is followed by "CORD".
  bool little = true;
  if (as_little == 84) {
    marker_size_ = raw1 == 0 ? 8 : 4;
  } else if (as_big == 84) {
    little = false;
  } else if (raw0 == 0 && next_as_big == 84) {
    little = false;
    marker_size_ = 8;
  } else {
    throw FormatError(path_ + ": not a DCD file (first record marker is " + std::to_string(as_little) +
                      ", expected 84)");
  }
  swap_ = little != kHostLittle;
  big_endian_ = !little;
  const unsigned char* magic = head + marker_size_;
  if (std::memcmp(magic, "CORD", 4) != 0)
    throw FormatError(path_ + ": not a DCD coordinate file (magic is '" + printable(magic, 4) + "', expected 'CORD')");

  std::uint64_t offset = 0;
  const std::vector<unsigned char> header = read_header_record(offset, "first");
  if (header.size() != 84)
    throw FormatError(path_ + ": corrupt header (first record has " + std::to_string(header.size()) +
                      " bytes, expected 84)");
  auto icntrl = [&](int i) { return load_i32(header.data() + 4 + 4 * i, swap_); };
  header_nset_ = static_cast<std::size_t>(std::max(icntrl(0), 0));
  start_step_ = icntrl(1);
  step_interval_ = icntrl(2);
  const std::int32_t fixed = icntrl(8);
  // A CHARMM version in the last slot means CHARMM layout (also NAMD, OpenMM,
  // MDTraj); 0 means X-PLOR, where DELTA is a double and there are no flags.
  double delta;
  if (icntrl(19) != 0) {
    delta = load_f32(header.data() + 4 + 4 * 9, swap_);
    has_unit_cell_ = icntrl(10) != 0;
    has_4d_ = icntrl(11) != 0;
  } else {
    delta = load_f64(header.data() + 4 + 4 * 9, swap_);
  }
  timestep_ps_ = std::isfinite(delta) && delta > 0 ? delta * kAkmaPs : 0.0;

  const std::vector<unsigned char> title = read_header_record(offset, "title");
  if (title.size() < 4)
    throw FormatError(path_ + ": corrupt header (title record has " + std::to_string(title.size()) + " bytes)");
  const std::size_t lines = std::min<std::size_t>(static_cast<std::size_t>(std::max(load_i32(title.data(), swap_), 0)),
                                                  (title.size() - 4) / 80);
  for (std::size_t i = 0; i < lines; ++i) {
    const char* line = reinterpret_cast<const char*>(title.data()) + 4 + 80 * i;
    std::string text(line, strnlen(line, 80));
    while (!text.empty() && (text.back() == ' ' || text.back() == '\n')) text.pop_back();
    title_.push_back(std::move(text));
  }

  const std::vector<unsigned char> natom = read_header_record(offset, "atom count");
  if (natom.size() != 4)
    throw FormatError(path_ + ": corrupt header (atom count record has " + std::to_string(natom.size()) +
                      " bytes, expected 4)");
  const std::int32_t atoms = load_i32(natom.data(), swap_);
  if (atoms <= 0) throw FormatError(path_ + ": corrupt header (atom count is " + std::to_string(atoms) + ")");
  atom_count_ = static_cast<std::size_t>(atoms);
  if (fixed < 0 || fixed > atoms)
    throw FormatError(path_ + ": corrupt header (" + std::to_string(fixed) + " fixed atoms out of " +
                      std::to_string(atoms) + ")");
  fixed_count_ = static_cast<std::size_t>(fixed);
  if (fixed_count_ > 0) {
    const std::vector<unsigned char> free = read_header_record(offset, "free atom list");
    const std::size_t free_count = atom_count_ - fixed_count_;
    if (free.size() != 4 * free_count)
      throw FormatError(path_ + ": corrupt header (free atom list has " + std::to_string(free.size()) +
                        " bytes, expected " + std::to_string(4 * free_count) + ")");
    free_atoms_.resize(free_count);
    for (std::size_t i = 0; i < free_count; ++i) {
      const std::int32_t index = load_i32(free.data() + 4 * i, swap_);  // 1-based
      if (index < 1 || index > atoms)
        throw FormatError(path_ + ": corrupt header (free atom index " + std::to_string(index) + " outside 1.." +
                          std::to_string(atoms) + ")");
      free_atoms_[i] = static_cast<std::uint32_t>(index - 1);
    }
  }
  header_end_ = offset;

  const std::uint64_t m = static_cast<std::uint64_t>(marker_size_);
  const std::uint64_t cell_bytes = has_unit_cell_ ? 2 * m + 48 : 0;
  const std::uint64_t dims = has_4d_ ? 4 : 3;
  first_frame_bytes_ = cell_bytes + dims * (2 * m + 4 * std::uint64_t(atom_count_));
  frame_bytes_ = cell_bytes + dims * (2 * m + 4 * std::uint64_t(free_atoms_count()));

  // NSET is 0 or too large when the writer crashed, and some programs never
  // update it, so the file size decides.
  const std::uint64_t data = file_size_ - header_end_;
  if (data < first_frame_bytes_) {
    frame_count_ = 0;
    partial_frame_ = data > 0;
  } else {
    frame_count_ = static_cast<std::size_t>(1 + (data - first_frame_bytes_) / frame_bytes_);
    partial_frame_ = (data - first_frame_bytes_) % frame_bytes_ != 0;
  }
}

std::uint64_t DcdReader::frame_offset(std::size_t index) const {
  if (index == 0) return header_end_;
  return header_end_ + first_frame_bytes_ + std::uint64_t(index - 1) * frame_bytes_;
}

void DcdReader::fail_truncated(std::size_t index, std::uint64_t available) const {
  const std::uint64_t expected = index == 0 ? first_frame_bytes_ : frame_bytes_;
  throw FormatError(path_ + ": frame " + std::to_string(index) + " (0-based) is truncated: expected " +
                    std::to_string(expected) + " bytes, found only " + std::to_string(available) +
                    " before the end of the file (was the writing program stopped?)");
}

bool DcdReader::read(Frame& frame) {
  if (position_ >= frame_count_) {
    if (partial_frame_ && position_ == frame_count_) fail_truncated(position_, file_size_ - frame_offset(position_));
    return false;
  }
  const std::uint64_t offset = frame_offset(position_);
  buffer_.resize(position_ == 0 ? first_frame_bytes_ : frame_bytes_);
  if (!read_at(offset, buffer_.data(), buffer_.size()))  // the file shrank since it was opened
    fail_truncated(position_, file_size_ > offset ? file_size_ - offset : 0);
  decode_frame(position_, buffer_.data(), frame);
  ++position_;
  return true;
}

bool DcdReader::skip() {
  if (position_ >= frame_count_) {
    if (partial_frame_ && position_ == frame_count_) fail_truncated(position_, file_size_ - frame_offset(position_));
    return false;
  }
  if (position_ == 0 && fixed_count_ > 0) {  // later frames need the fixed atoms of frame 0
    Frame scratch;
    return read(scratch);
  }
  ++position_;  // read() computes the offset of the next frame itself
  return true;
}

void DcdReader::decode_frame(std::size_t index, const unsigned char* data, Frame& frame) {
  const unsigned char* p = data;
  auto expect_marker = [&](std::uint64_t expected) {
    const std::uint64_t found = marker_at(p);
    if (found != expected)
      throw FormatError(path_ + ": frame " + std::to_string(index) + ": corrupt record (expected marker " +
                        std::to_string(expected) + ", found " + std::to_string(found) + ")");
    p += marker_size_;
  };

  if (has_unit_cell_) {
    expect_marker(48);
    double u[6];
    for (int k = 0; k < 6; ++k) u[k] = load_f64(p + 8 * k, swap_);
    p += 48;
    expect_marker(48);
    if (!std::all_of(u, u + 6, [](double x) { return std::isfinite(x); }))
      throw FormatError(path_ + ": frame " + std::to_string(index) + ": non-finite unit cell");
    frame.cell = unit_cell_from_record(u);
  } else {
    frame.cell.reset();
  }

  const bool all_atoms = index == 0 || fixed_count_ == 0;
  const std::size_t n = all_atoms ? atom_count_ : free_atoms_.size();
  const std::uint64_t record = 4 * std::uint64_t(n);
  if (all_atoms) {
    frame.xyz.resize(3 * atom_count_);
  } else {
    frame.xyz.assign(fixed_xyz_.begin(), fixed_xyz_.end());  // fixed atoms keep frame 0's positions
  }
  bool bad = false;
  for (int axis = 0; axis < 3; ++axis) {
    expect_marker(record);
    float* out = frame.xyz.data() + axis;
    if (all_atoms)
      bad |= swap_ ? unpack_axis<true>(p, n, out) : unpack_axis<false>(p, n, out);
    else
      bad |= swap_ ? scatter_axis<true>(p, free_atoms_.data(), n, out)
                   : scatter_axis<false>(p, free_atoms_.data(), n, out);
    p += record;
    expect_marker(record);
  }
  if (has_4d_) {  // a fourth coordinate (e.g. CHARMM 4D dynamics): not used
    expect_marker(record);
    p += record;
    expect_marker(record);
  }
  if (bad) {
    const auto it = std::find_if(frame.xyz.begin(), frame.xyz.end(), [](float x) { return !std::isfinite(x); });
    const std::size_t at = static_cast<std::size_t>(it - frame.xyz.begin());
    throw FormatError(path_ + ": frame " + std::to_string(index) + ": non-finite coordinate (" + "xyz"[at % 3] +
                      " of atom " + std::to_string(at / 3) + ", 0-based)");
  }
  if (index == 0 && fixed_count_ > 0) fixed_xyz_ = frame.xyz;

  frame.step = start_step_ + static_cast<long>(index) * step_interval_;
  frame.time_ps = static_cast<double>(frame.step) * timestep_ps_;
}

}  // namespace molearn
