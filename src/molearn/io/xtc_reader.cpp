#include "molearn/io/xtc_reader.hpp"

#include <sys/stat.h>

#include <bit>
#include <cerrno>
#include <cmath>
#include <cstring>

#include "molearn/core/error.hpp"

namespace molearn {

namespace {

constexpr std::int32_t kMagic = 1995;
// GROMACS >= 2023.2 writes this magic (with a 64-bit byte count) for systems
// too large for the classic record; recognised only to say so clearly.
constexpr std::int32_t kMagicLarge = 2023;
constexpr std::size_t kBaseHeaderSize = 56;     // magic natoms step time box[9] natoms
constexpr std::size_t kPackingHeaderSize = 36;  // precision minint[3] maxint[3] smallidx nbytes
constexpr std::size_t kMaxUncompressedAtoms = 9;
constexpr float kNmToAngstrom = 10.0f;
constexpr std::size_t kStdioBuffer = 1 << 18;  // fewer read() calls for small frames

// XDR is big-endian.
inline std::uint32_t be_u32(const std::uint8_t* p) {
  std::uint32_t v;
  std::memcpy(&v, p, 4);
  if constexpr (std::endian::native == std::endian::little) v = __builtin_bswap32(v);
  return v;
}
inline std::int32_t be_i32(const std::uint8_t* p) { return static_cast<std::int32_t>(be_u32(p)); }
inline float be_f32(const std::uint8_t* p) { return std::bit_cast<float>(be_u32(p)); }

// The box rows are the three cell vectors in nm.
std::optional<UnitCell> cell_from_box(const float box[9]) {
  bool any = false;
  for (int k = 0; k < 9; ++k) any = any || box[k] != 0;
  if (!any) return std::nullopt;  // writers store zeros when there is no box
  double v[3][3];
  double len[3];
  for (int r = 0; r < 3; ++r) {
    for (int c = 0; c < 3; ++c) v[r][c] = static_cast<double>(box[3 * r + c]) * 10.0;
    len[r] = std::sqrt(v[r][0] * v[r][0] + v[r][1] * v[r][1] + v[r][2] * v[r][2]);
  }
  auto angle = [&](int p, int q) {
    if (len[p] == 0 || len[q] == 0) return 90.0;  // undefined; keep the default
    double cos = (v[p][0] * v[q][0] + v[p][1] * v[q][1] + v[p][2] * v[q][2]) / (len[p] * len[q]);
    cos = cos > 1 ? 1 : (cos < -1 ? -1 : cos);
    return std::acos(cos) * (180.0 / 3.14159265358979323846);
  };
  UnitCell cell;
  cell.a = len[0];
  cell.b = len[1];
  cell.c = len[2];
  cell.alpha = angle(1, 2);
  cell.beta = angle(0, 2);
  cell.gamma = angle(0, 1);
  return cell;
}

std::string bad_magic(std::int32_t magic) {
  if (magic == kMagicLarge) return "magic number 2023 marks GROMACS' large-system XTC variant, which is not supported";
  return "magic number is " + std::to_string(magic) + ", expected " + std::to_string(kMagic) +
         " (is this an XTC file?)";
}

std::uint64_t padded(std::uint32_t nbytes) { return (std::uint64_t{nbytes} + 3) & ~std::uint64_t{3}; }

}  // namespace

XtcReader::XtcReader(std::string path) : path_(std::move(path)) {
  file_.reset(std::fopen(path_.c_str(), "rb"));
  if (!file_) throw InputError(path_ + ": cannot open: " + std::strerror(errno));
  std::setvbuf(file_.get(), nullptr, _IOFBF, kStdioBuffer);
  struct stat st;
  if (::fstat(fileno(file_.get()), &st) == 0) file_size_ = static_cast<std::uint64_t>(st.st_size);

  // Only the first record tells the atom count; read its fixed part and
  // rewind, so that read() sees every record the same way.
  std::uint8_t head[kBaseHeaderSize];
  const std::size_t got = std::fread(head, 1, kBaseHeaderSize, file_.get());
  if (got == 0 && std::ferror(file_.get())) throw InputError(path_ + ": cannot read: " + std::strerror(errno));
  if (got == 0) throw FormatError(path_ + ": empty file, expected at least one XTC frame");
  if (got < kBaseHeaderSize)
    fail("truncated frame header: expected " + std::to_string(kBaseHeaderSize) + " bytes, the file ends after " +
         std::to_string(got));
  if (const std::int32_t magic = be_i32(head); magic != kMagic) fail(bad_magic(magic));
  const std::int32_t natoms = be_i32(head + 4);
  if (natoms <= 0) fail("atom count is " + std::to_string(natoms) + ", expected a positive number");
  natoms_ = static_cast<std::size_t>(natoms);
  std::rewind(file_.get());
  header_bytes_.resize(natoms_ <= kMaxUncompressedAtoms ? kBaseHeaderSize + 12 * natoms_
                                                        : kBaseHeaderSize + kPackingHeaderSize);
}

void XtcReader::fail(const std::string& what) {
  error_ = path_ + ": frame " + std::to_string(position_) + " (0-based): " + what;
  throw FormatError(error_);
}

void XtcReader::check_usable() const {
  if (!error_.empty()) throw FormatError(error_ + " (reading cannot continue after this error)");
}

std::uint64_t XtcReader::bytes_remaining() {
  // The file may have grown since it was opened (a running simulation).
  if (offset_ > file_size_) file_size_ = offset_;
  return file_size_ - offset_;
}

bool XtcReader::read_record_header(RecordHeader& h) {
  const std::size_t want = header_bytes_.size();
  std::uint8_t* b = header_bytes_.data();
  const std::size_t got = std::fread(b, 1, want, file_.get());
  if (got < want) {
    if (std::ferror(file_.get())) fail(std::string("read error: ") + std::strerror(errno));
    if (got == 0) return false;  // clean end: the previous record was the last
    fail("truncated: expected a record of at least " + std::to_string(want) + " bytes, the file ends after " +
         std::to_string(got));
  }
  offset_ += got;

  if (const std::int32_t magic = be_i32(b); magic != kMagic) fail(bad_magic(magic));
  const std::int32_t n1 = be_i32(b + 4);
  const std::int32_t n2 = be_i32(b + 52);
  if (n1 < 0 || static_cast<std::size_t>(n1) != natoms_)
    fail("atom count is " + std::to_string(n1) + ", expected " + std::to_string(natoms_) + " as in frame 0");
  if (n2 != n1) fail("the two atom counts of the record differ: " + std::to_string(n1) + " and " + std::to_string(n2));
  h.step = be_i32(b + 8);
  h.time = be_f32(b + 12);
  if (!std::isfinite(h.time)) fail("time is not a finite number");
  for (int k = 0; k < 9; ++k) {
    h.box[k] = be_f32(b + 16 + 4 * k);
    if (!std::isfinite(h.box[k])) fail("box vector component " + std::to_string(k) + " is not finite");
  }
  if (natoms_ <= kMaxUncompressedAtoms) return true;

  const std::uint8_t* c = b + kBaseHeaderSize;
  h.packing.precision = be_f32(c);
  for (int k = 0; k < 3; ++k) {
    h.packing.minint[k] = be_i32(c + 4 + 4 * k);
    h.packing.maxint[k] = be_i32(c + 16 + 4 * k);
  }
  h.packing.smallidx = be_i32(c + 28);
  try {
    xtc::validate_header(h.packing);
  } catch (const FormatError& e) {
    fail(e.what());
  }
  const std::int32_t nbytes = be_i32(c + 32);
  if (nbytes < 0) fail("compressed size is " + std::to_string(nbytes) + ", expected >= 0");
  h.nbytes = static_cast<std::uint32_t>(nbytes);
  // Every atom costs at least 2 bits (a large one: >= 1 bit of position and
  // the run flag; small ones >= 9 bits). Checked before read() sizes the
  // frame, so that a damaged atom count cannot make us allocate gigabytes.
  if (natoms_ > 4 * std::uint64_t{h.nbytes})
    fail("a compressed block of " + std::to_string(h.nbytes) + " bytes cannot hold " + std::to_string(natoms_) +
         " atoms");
  const std::uint64_t remaining = bytes_remaining();
  if (padded(h.nbytes) > remaining) {
    // Maybe the file grew; look once more before calling it truncated.
    struct stat st;
    if (::fstat(fileno(file_.get()), &st) == 0) file_size_ = static_cast<std::uint64_t>(st.st_size);
    if (padded(h.nbytes) > bytes_remaining())
      fail("truncated: the compressed block needs " + std::to_string(padded(h.nbytes)) + " bytes, only " +
           std::to_string(bytes_remaining()) + " remain in the file");
  }
  return true;
}

bool XtcReader::read(Frame& frame) {
  check_usable();
  RecordHeader h;
  if (!read_record_header(h)) return false;
  frame.xyz.resize(3 * natoms_);
  float* xyz = frame.xyz.data();

  if (natoms_ <= kMaxUncompressedAtoms) {
    const std::uint8_t* p = header_bytes_.data() + kBaseHeaderSize;
    for (std::size_t k = 0; k < 3 * natoms_; ++k) {
      const float nm = be_f32(p + 4 * k);
      if (!std::isfinite(nm)) fail("coordinate " + std::to_string(k) + " is not finite");
      xyz[k] = nm * kNmToAngstrom;
    }
  } else {
    const std::uint64_t size = padded(h.nbytes);
    if (packed_.size() < size) packed_.resize(size);  // grows only; reused afterwards
    const std::size_t got = std::fread(packed_.data(), 1, size, file_.get());
    if (got < size) {
      if (std::ferror(file_.get())) fail(std::string("read error: ") + std::strerror(errno));
      fail("truncated: the compressed block needs " + std::to_string(size) + " bytes, the file ends after " +
           std::to_string(got));
    }
    offset_ += got;
    try {
      xtc::decompress_coords(h.packing, packed_.data(), h.nbytes, natoms_, kNmToAngstrom, xyz);
    } catch (const FormatError& e) {
      fail(e.what());
    }
  }
  frame.cell = cell_from_box(h.box);
  frame.time_ps = h.time;
  frame.step = h.step;
  ++position_;
  return true;
}

bool XtcReader::skip() {
  check_usable();
  RecordHeader h;
  if (!read_record_header(h)) return false;
  if (natoms_ > kMaxUncompressedAtoms) {
    const std::uint64_t size = padded(h.nbytes);  // checked against the file size above
    if (::fseeko(file_.get(), static_cast<off_t>(size), SEEK_CUR) != 0)
      fail(std::string("cannot seek over the compressed block: ") + std::strerror(errno));
    offset_ += size;
  }
  ++position_;
  return true;
}

}  // namespace molearn
