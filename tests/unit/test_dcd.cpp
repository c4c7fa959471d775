// DCD reader and writer: round trips, every flavour the reader accepts (built
// byte by byte here, so the tests do not depend on other programs), damaged
// files, and the real MurD trajectory when the shared data are present.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

#include "molearn/core/error.hpp"
#include "molearn/io/dcd_reader.hpp"
#include "molearn/io/dcd_writer.hpp"

#ifndef MOLEARN_DEFAULT_DATA
#define MOLEARN_DEFAULT_DATA "../shared/data"
#endif

namespace fs = std::filesystem;
using namespace molearn;

namespace {

// ---- files ----

std::vector<unsigned char> load(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void save(const fs::path& path, const std::vector<unsigned char>& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  ASSERT_TRUE(out.good()) << path;
}

// Runs `f`, expects it to throw E and returns the message.
template <class E>
std::string message_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const E& e) {
    return e.what();
  }
  ADD_FAILURE() << "expected an exception";
  return {};
}

bool contains(const std::string& text, std::string_view part) { return text.find(part) != std::string::npos; }

// ---- frames ----

std::vector<Frame> make_frames(std::size_t frames, std::size_t atoms, bool with_cell) {
  std::vector<Frame> out(frames);
  std::uint32_t state = 12345;
  auto next = [&] {  // small LCG: reproducible values with all mantissa bits in use
    state = state * 1664525u + 1013904223u;
    return static_cast<float>(static_cast<double>(state) / 4294967296.0 * 200.0 - 100.0);
  };
  for (std::size_t f = 0; f < frames; ++f) {
    out[f].xyz.resize(3 * atoms);
    for (float& v : out[f].xyz) v = next();
    if (with_cell) {
      UnitCell c;
      c.a = 61.25 + 0.1 * double(f);
      c.b = 62.5 - 0.01 * double(f);
      c.c = 70.125;
      c.alpha = 85.5;
      c.beta = 97.25 + double(f);
      c.gamma = 119.875;
      out[f].cell = c;
    }
  }
  return out;
}

std::vector<Frame> read_all(DcdReader& reader) {
  std::vector<Frame> frames;
  Frame frame;
  while (reader.read(frame)) frames.push_back(frame);
  return frames;
}

void expect_same_cell(const std::optional<UnitCell>& got, const std::optional<UnitCell>& want) {
  ASSERT_EQ(got.has_value(), want.has_value());
  if (!want) return;
  EXPECT_EQ(got->a, want->a);
  EXPECT_EQ(got->b, want->b);
  EXPECT_EQ(got->c, want->c);
  EXPECT_EQ(got->alpha, want->alpha);
  EXPECT_EQ(got->beta, want->beta);
  EXPECT_EQ(got->gamma, want->gamma);
}

void expect_same_frames(const std::vector<Frame>& got, const std::vector<Frame>& want) {
  ASSERT_EQ(got.size(), want.size());
  for (std::size_t f = 0; f < want.size(); ++f) {
    SCOPED_TRACE("frame " + std::to_string(f));
    EXPECT_EQ(got[f].xyz, want[f].xyz);  // exact: DCD stores float32
    expect_same_cell(got[f].cell, want[f].cell);
  }
}

// ---- hand-made DCD files ----

// Payload of one record in a chosen byte order.
struct Bytes {
  bool big = false;
  std::vector<unsigned char> data;

  Bytes& u(std::uint64_t v, int size) {
    for (int i = 0; i < size; ++i) {
      const int shift = 8 * (big ? size - 1 - i : i);
      data.push_back(static_cast<unsigned char>(v >> shift));
    }
    return *this;
  }
  Bytes& i32(std::int32_t v) { return u(static_cast<std::uint32_t>(v), 4); }
  Bytes& f32(float v) {
    std::uint32_t x;
    std::memcpy(&x, &v, 4);
    return u(x, 4);
  }
  Bytes& f64(double v) {
    std::uint64_t x;
    std::memcpy(&x, &v, 8);
    return u(x, 8);
  }
  Bytes& text(std::string_view s, std::size_t width) {
    std::string line(s);
    line.resize(width, ' ');
    data.insert(data.end(), line.begin(), line.end());
    return *this;
  }
};

// Builds a DCD file record by record.
class DcdBuilder {
 public:
  DcdBuilder(bool big_endian, int marker_size) : big_(big_endian), marker_(marker_size) {}

  Bytes payload() const { return Bytes{big_, {}}; }

  void record(const Bytes& b) {
    marker(b.data.size());
    out_.insert(out_.end(), b.data.begin(), b.data.end());
    marker(b.data.size());
  }

  // CHARMM layout: ICNTRL[9] is DELTA as float, ICNTRL[19] the CHARMM version.
  void charmm_header(int nset, int istart, int nsavc, int fixed, float delta, bool cell, bool four_d) {
    Bytes b = payload();
    b.text("CORD", 4).i32(nset).i32(istart).i32(nsavc).i32(nset * nsavc);
    for (int i = 4; i < 8; ++i) b.i32(0);
    b.i32(fixed).f32(delta).i32(cell ? 1 : 0).i32(four_d ? 1 : 0);
    for (int i = 12; i < 19; ++i) b.i32(0);
    b.i32(24);
    record(b);
  }

  // X-PLOR layout: DELTA is a double over ICNTRL[9..10], no CHARMM version.
  void xplor_header(int nset, int istart, int nsavc, double delta) {
    Bytes b = payload();
    b.text("CORD", 4).i32(nset).i32(istart).i32(nsavc).i32(nset * nsavc);
    for (int i = 4; i < 9; ++i) b.i32(0);
    b.f64(delta);
    for (int i = 11; i < 20; ++i) b.i32(0);
    record(b);
  }

  void title_and_atoms(int atoms) {
    record(payload().i32(2).text("Hand-made test file", 80).text("REMARKS second line", 80));
    record(payload().i32(atoms));
  }

  void cell(const std::array<double, 6>& stored) {
    Bytes b = payload();
    for (double v : stored) b.f64(v);
    record(b);
  }

  // One record per axis; `xyz` holds the atoms written in this frame.
  void coordinates(const std::vector<float>& xyz, bool four_d = false) {
    const std::size_t n = xyz.size() / 3;
    for (int axis = 0; axis < (four_d ? 4 : 3); ++axis) {
      Bytes b = payload();
      for (std::size_t i = 0; i < n; ++i) b.f32(axis < 3 ? xyz[3 * i + std::size_t(axis)] : -1.0f);
      record(b);
    }
  }

  const std::vector<unsigned char>& bytes() const { return out_; }

 private:
  void marker(std::size_t n) {
    Bytes b = payload();
    b.u(n, marker_);
    out_.insert(out_.end(), b.data.begin(), b.data.end());
  }

  bool big_;
  int marker_;
  std::vector<unsigned char> out_;
};

// Turns a little-endian DCD written by DcdWriter into its big-endian twin:
// swaps every marker and every 4-byte word, and the unit cell's doubles as
// 8-byte words; "CORD" and the title text stay as they are.
std::vector<unsigned char> to_big_endian(const std::vector<unsigned char>& in, bool with_cell) {
  std::vector<unsigned char> out = in;
  auto swap = [&](std::size_t at, std::size_t width) {
    std::reverse(out.begin() + long(at), out.begin() + long(at + width));
  };
  std::size_t pos = 0;
  std::size_t index = 0;  // record number
  const std::size_t per_frame = with_cell ? 4 : 3;
  while (pos < in.size()) {
    std::uint32_t length;
    std::memcpy(&length, in.data() + pos, 4);  // the test host is little endian (checked below)
    swap(pos, 4);
    const std::size_t body = pos + 4;
    if (index == 0) {  // "CORD" + ICNTRL
      for (std::size_t k = 4; k < length; k += 4) swap(body + k, 4);
    } else if (index == 1) {  // NTITLE + text
      swap(body, 4);
    } else if (index >= 3 && with_cell && (index - 3) % per_frame == 0) {
      for (std::size_t k = 0; k < length; k += 8) swap(body + k, 8);
    } else {
      for (std::size_t k = 0; k < length; k += 4) swap(body + k, 4);
    }
    swap(body + length, 4);
    pos = body + length + 4;
    ++index;
  }
  return out;
}

// ---- fixture: a private temporary folder per test ----

class DcdFixture : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (fs::temp_directory_path() / "molearn-test-XXXXXX").string();
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr) << "cannot create a temporary folder";
    dir_ = pattern;
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  fs::path file(const std::string& name) const { return dir_ / name; }

  // Writes `frames` with DcdWriter and returns the path.
  fs::path write(const std::string& name, const std::vector<Frame>& frames, DcdWriterOptions options = {}) {
    const fs::path path = file(name);
    DcdWriter writer(path.string(), frames.at(0).atom_count(), options);
    for (const Frame& f : frames) writer.write(f);
    writer.close();
    return path;
  }

  fs::path dir_;
};

class DcdRoundTrip : public DcdFixture {};
class DcdByteOrder : public DcdFixture {};
class DcdDamaged : public DcdFixture {};
class DcdFrameCount : public DcdFixture {};
class DcdSkip : public DcdFixture {};
class DcdWriterTest : public DcdFixture {};
class DcdFlavours : public DcdFixture {};

// Size of one frame written by DcdWriter.
std::size_t frame_bytes(std::size_t atoms, bool with_cell) { return (with_cell ? 56 : 0) + 3 * (8 + 4 * atoms); }
// Size of the header written by DcdWriter.
constexpr std::size_t kWriterHeaderBytes = (4 + 84 + 4) + (4 + 4 + 160 + 4) + (4 + 4 + 4);

}  // namespace

// ---- round trips ----

TEST_F(DcdRoundTrip, WithoutUnitCell) {
  const auto frames = make_frames(5, 37, false);
  DcdWriterOptions options;
  options.timestep_ps = 0.002;
  options.start_step = 1000;
  options.step_interval = 500;
  const fs::path path = write("plain.dcd", frames, options);
  EXPECT_EQ(fs::file_size(path), kWriterHeaderBytes + 5 * frame_bytes(37, false));

  DcdReader reader(path.string());
  EXPECT_EQ(reader.path(), path.string());
  EXPECT_EQ(reader.atom_count(), 37u);
  EXPECT_EQ(reader.frame_count(), 5u);
  EXPECT_EQ(reader.header_frame_count(), 5u);
  EXPECT_FALSE(reader.has_unit_cell());
  EXPECT_FALSE(reader.big_endian());
  EXPECT_EQ(reader.fixed_atom_count(), 0u);
  ASSERT_FALSE(reader.title().empty());
  EXPECT_EQ(reader.title()[0], "Created by molearn");
  EXPECT_NEAR(reader.timestep_ps(), 0.002, 1e-9);

  const auto got = read_all(reader);
  expect_same_frames(got, frames);
  for (std::size_t f = 0; f < got.size(); ++f) {
    EXPECT_EQ(got[f].step, 1000 + 500 * long(f));
    EXPECT_NEAR(got[f].time_ps, 0.002 * double(got[f].step), 1e-6);
  }
  Frame extra;
  EXPECT_FALSE(reader.read(extra));  // stays at the end
  EXPECT_FALSE(reader.skip());
  EXPECT_EQ(reader.position(), 5u);
}

TEST_F(DcdRoundTrip, WithUnitCell) {
  const auto frames = make_frames(4, 53, true);
  DcdWriterOptions options;
  options.with_unit_cell = true;
  const fs::path path = write("cell.dcd", frames, options);
  EXPECT_EQ(fs::file_size(path), kWriterHeaderBytes + 4 * frame_bytes(53, true));

  DcdReader reader(path.string());
  EXPECT_TRUE(reader.has_unit_cell());
  EXPECT_EQ(reader.frame_count(), 4u);
  expect_same_frames(read_all(reader), frames);
}

TEST_F(DcdRoundTrip, HeaderIsCharmmStyleLittleEndian) {
  DcdWriterOptions options;
  options.with_unit_cell = true;
  const auto bytes = load(write("layout.dcd", make_frames(3, 10, true), options));
  ASSERT_GE(bytes.size(), kWriterHeaderBytes);
  auto i32 = [&](std::size_t at) {
    return std::int32_t(bytes[at] | bytes[at + 1] << 8 | bytes[at + 2] << 16 | std::uint32_t(bytes[at + 3]) << 24);
  };
  EXPECT_EQ(i32(0), 84);
  EXPECT_EQ(std::string(bytes.begin() + 4, bytes.begin() + 8), "CORD");
  EXPECT_EQ(i32(8), 3);            // NSET written by close()
  EXPECT_EQ(i32(8 + 4 * 10), 1);   // unit cell flag
  EXPECT_EQ(i32(8 + 4 * 19), 24);  // CHARMM version
  EXPECT_EQ(i32(88), 84);
  EXPECT_EQ(i32(92), 164);  // title record: 2 lines of 80
  EXPECT_EQ(i32(96), 2);
}

// ---- byte order ----

TEST_F(DcdByteOrder, BigEndianCopyReadsIdentically) {
  if (std::endian::native != std::endian::little) GTEST_SKIP() << "the swap helper assumes a little-endian host";
  DcdWriterOptions options;
  options.with_unit_cell = true;
  options.start_step = 7;
  const auto frames = make_frames(3, 29, true);
  const fs::path little = write("little.dcd", frames, options);
  const fs::path big = file("big.dcd");
  save(big, to_big_endian(load(little), true));

  DcdReader a(little.string());
  DcdReader b(big.string());
  EXPECT_FALSE(a.big_endian());
  EXPECT_TRUE(b.big_endian());
  EXPECT_EQ(b.frame_count(), 3u);
  EXPECT_EQ(b.atom_count(), 29u);
  EXPECT_EQ(b.title(), a.title());
  const auto fa = read_all(a);
  const auto fb = read_all(b);
  expect_same_frames(fb, frames);
  expect_same_frames(fa, fb);
  for (std::size_t f = 0; f < fb.size(); ++f) EXPECT_EQ(fb[f].step, fa[f].step);
}

// ---- damaged files ----

TEST_F(DcdDamaged, TruncatedInsideFrame2) {
  const auto frames = make_frames(4, 31, false);
  const fs::path path = write("cut.dcd", frames);
  auto bytes = load(path);
  bytes.resize(kWriterHeaderBytes + 2 * frame_bytes(31, false) + frame_bytes(31, false) / 2);
  save(path, bytes);

  DcdReader reader(path.string());
  EXPECT_EQ(reader.frame_count(), 2u);  // complete frames
  Frame frame;
  ASSERT_TRUE(reader.read(frame));
  ASSERT_TRUE(reader.read(frame));
  EXPECT_EQ(frame.xyz, frames[1].xyz);
  const std::string msg = message_of<FormatError>([&] { reader.read(frame); });
  EXPECT_TRUE(contains(msg, "cut.dcd")) << msg;
  EXPECT_TRUE(contains(msg, "frame 2")) << msg;
  EXPECT_TRUE(contains(msg, "0-based")) << msg;

  // skip() meets the same partial frame.
  DcdReader skipper(path.string());
  EXPECT_TRUE(skipper.skip());
  EXPECT_TRUE(skipper.skip());
  EXPECT_TRUE(contains(message_of<FormatError>([&] { skipper.skip(); }), "frame 2"));
}

TEST_F(DcdDamaged, WrongMagic) {
  const fs::path path = write("magic.dcd", make_frames(2, 8, false));
  auto bytes = load(path);
  std::memcpy(bytes.data() + 4, "VELX", 4);
  save(path, bytes);
  const std::string msg = message_of<FormatError>([&] { DcdReader r(path.string()); });
  EXPECT_TRUE(contains(msg, "magic.dcd")) << msg;
  EXPECT_TRUE(contains(msg, "CORD")) << msg;
}

TEST_F(DcdDamaged, NotADcdFile) {
  const fs::path path = file("text.dcd");
  std::ofstream(path) << "ATOM      1  N   ALA A   1      11.104   6.134  -6.504  1.00  0.00           N\n";
  const std::string msg = message_of<FormatError>([&] { DcdReader r(path.string()); });
  EXPECT_TRUE(contains(msg, "text.dcd")) << msg;

  const fs::path tiny = file("tiny.dcd");
  std::ofstream(tiny) << "T";
  EXPECT_THROW(DcdReader(tiny.string()), FormatError);
}

TEST_F(DcdDamaged, MissingFileIsInputError) {
  const std::string msg = message_of<InputError>([&] { DcdReader r(file("absent.dcd").string()); });
  EXPECT_TRUE(contains(msg, "absent.dcd")) << msg;
}

TEST_F(DcdDamaged, CorruptRecordMarker) {
  const std::size_t atoms = 11;
  const fs::path path = write("marker.dcd", make_frames(3, atoms, false));
  auto bytes = load(path);
  // Leading marker of frame 1's Y record.
  const std::size_t at = kWriterHeaderBytes + frame_bytes(atoms, false) + (8 + 4 * atoms);
  ASSERT_EQ(bytes[at], 4 * atoms);
  bytes[at] = 7;
  save(path, bytes);

  DcdReader reader(path.string());
  Frame frame;
  ASSERT_TRUE(reader.read(frame));
  const std::string msg = message_of<FormatError>([&] { reader.read(frame); });
  EXPECT_TRUE(contains(msg, "marker.dcd: frame 1: corrupt record (expected marker 44, found 7)")) << msg;
}

TEST_F(DcdDamaged, CorruptHeaderMarker) {
  const fs::path path = write("header.dcd", make_frames(1, 5, false));
  auto bytes = load(path);
  bytes[88] = 83;  // trailing marker of the first record
  save(path, bytes);
  const std::string msg = message_of<FormatError>([&] { DcdReader r(path.string()); });
  EXPECT_TRUE(contains(msg, "header.dcd")) << msg;
  EXPECT_TRUE(contains(msg, "corrupt")) << msg;
}

TEST_F(DcdDamaged, NonFiniteCoordinate) {
  auto frames = make_frames(3, 6, false);
  const fs::path path = write("nan.dcd", frames);
  auto bytes = load(path);
  // Frame 2, Z record, atom 4 (0-based 3): put a NaN there.
  const std::size_t at = kWriterHeaderBytes + 2 * frame_bytes(6, false) + 2 * (8 + 4 * 6) + 4 + 4 * 3;
  const float nan = std::numeric_limits<float>::quiet_NaN();
  std::memcpy(bytes.data() + at, &nan, 4);
  save(path, bytes);

  DcdReader reader(path.string());
  Frame frame;
  ASSERT_TRUE(reader.read(frame));
  ASSERT_TRUE(reader.skip());
  const std::string msg = message_of<FormatError>([&] { reader.read(frame); });
  EXPECT_TRUE(contains(msg, "nan.dcd")) << msg;
  EXPECT_TRUE(contains(msg, "frame 2")) << msg;
  EXPECT_TRUE(contains(msg, "z of atom 3")) << msg;
}

// ---- frame count ----

TEST_F(DcdFrameCount, NsetZeroStillReadsAllFrames) {
  const auto frames = make_frames(3, 17, true);
  DcdWriterOptions options;
  options.with_unit_cell = true;
  const fs::path path = write("nset0.dcd", frames, options);
  auto bytes = load(path);
  std::memset(bytes.data() + 8, 0, 4);  // NSET, as a crashed writer leaves it
  save(path, bytes);

  DcdReader reader(path.string());
  EXPECT_EQ(reader.header_frame_count(), 0u);
  EXPECT_EQ(reader.frame_count(), 3u);
  expect_same_frames(read_all(reader), frames);
}

TEST_F(DcdFrameCount, NsetTooLargeUsesFileSize) {
  const auto frames = make_frames(2, 9, false);
  const fs::path path = write("nset99.dcd", frames);
  auto bytes = load(path);
  bytes[8] = 99;
  save(path, bytes);

  DcdReader reader(path.string());
  EXPECT_EQ(reader.header_frame_count(), 99u);
  EXPECT_EQ(reader.frame_count(), 2u);
  expect_same_frames(read_all(reader), frames);
}

TEST_F(DcdFrameCount, NoFrames) {
  const fs::path path = file("empty.dcd");
  {
    DcdWriter writer(path.string(), 4);
    writer.close();
  }
  DcdReader reader(path.string());
  EXPECT_EQ(reader.frame_count(), 0u);
  Frame frame;
  EXPECT_FALSE(reader.read(frame));
}

// ---- skip ----

TEST_F(DcdSkip, SkipThenRead) {
  const auto frames = make_frames(6, 13, true);
  DcdWriterOptions options;
  options.with_unit_cell = true;
  options.start_step = 10;
  options.step_interval = 5;
  const fs::path path = write("skip.dcd", frames, options);

  DcdReader reader(path.string());
  Frame frame;
  EXPECT_TRUE(reader.skip());
  EXPECT_TRUE(reader.skip());
  EXPECT_EQ(reader.position(), 2u);
  ASSERT_TRUE(reader.read(frame));
  EXPECT_EQ(frame.xyz, frames[2].xyz);
  expect_same_cell(frame.cell, frames[2].cell);
  EXPECT_EQ(frame.step, 20);
  EXPECT_TRUE(reader.skip());
  ASSERT_TRUE(reader.read(frame));
  EXPECT_EQ(frame.xyz, frames[4].xyz);
  EXPECT_TRUE(reader.skip());
  EXPECT_FALSE(reader.skip());
  EXPECT_FALSE(reader.read(frame));
  EXPECT_EQ(reader.position(), 6u);
  // simulate --resume checks the last frame, then rewinds to copy them all.
  reader.rewind();
  EXPECT_EQ(reader.position(), 0u);
  ASSERT_TRUE(reader.read(frame));
  EXPECT_EQ(frame.xyz, frames[0].xyz);
  EXPECT_EQ(frame.step, 10);
}

// ---- writer ----

TEST_F(DcdWriterTest, DestroyedWithoutCloseLeavesNothing) {
  const fs::path path = file("abandoned.dcd");
  {
    DcdWriter writer(path.string(), 5);
    for (const Frame& f : make_frames(2, 5, false)) writer.write(f);
  }
  EXPECT_FALSE(fs::exists(path));
  EXPECT_TRUE(fs::is_empty(dir_)) << "a temporary file was left behind";
}

TEST_F(DcdWriterTest, UnwritableFolderIsOutputError) {
  const fs::path path = dir_ / "no-such-folder" / "out.dcd";
  const std::string msg = message_of<OutputError>([&] { DcdWriter w(path.string(), 3); });
  EXPECT_TRUE(contains(msg, "out.dcd")) << msg;
  EXPECT_FALSE(fs::exists(path));

  if (::geteuid() != 0) {  // root may write anywhere
    const fs::path locked = file("locked");
    fs::create_directory(locked);
    fs::permissions(locked, fs::perms::owner_read | fs::perms::owner_exec);
    EXPECT_THROW(DcdWriter((locked / "out.dcd").string(), 3), OutputError);
    fs::permissions(locked, fs::perms::owner_all);
  }
}

TEST_F(DcdWriterTest, RejectsBadFrames) {
  const fs::path path = file("bad.dcd");
  DcdWriterOptions options;
  options.with_unit_cell = true;
  DcdWriter writer(path.string(), 4, options);
  auto frames = make_frames(1, 5, true);
  const std::string msg = message_of<InputError>([&] { writer.write(frames[0]); });
  EXPECT_TRUE(contains(msg, "5 atoms, expected 4")) << msg;

  frames = make_frames(1, 4, false);  // no unit cell
  EXPECT_THROW(writer.write(frames[0]), InputError);

  frames = make_frames(1, 4, true);
  frames[0].xyz[5] = std::numeric_limits<float>::infinity();
  EXPECT_THROW(writer.write(frames[0]), InputError);
  // Beyond what the readers accept (+-1e5 A): a decoded latent point far
  // outside the training region was once written, then refused on reading.
  for (float far : {-1.5e5f, 1.0001e5f, 1e28f, std::numeric_limits<float>::quiet_NaN()}) {
    frames[0].xyz[5] = far;
    const std::string far_msg = message_of<InputError>([&] { writer.write(frames[0]); });
    EXPECT_TRUE(contains(far_msg, "beyond +-1e5 A")) << far_msg;
  }
  EXPECT_EQ(writer.frames_written(), 0u);
  frames[0].xyz[5] = -1e5f;  // the bound itself is written
  writer.write(frames[0]);
  EXPECT_EQ(writer.frames_written(), 1u);

  EXPECT_THROW(DcdWriter(file("zero.dcd").string(), 0), InputError);
  DcdWriterOptions bad_interval;
  bad_interval.step_interval = 0;
  EXPECT_THROW(DcdWriter(file("interval.dcd").string(), 3, bad_interval), InputError);
}

TEST_F(DcdWriterTest, OverwritesExistingFileOnlyOnClose) {
  const fs::path path = file("replace.dcd");
  std::ofstream(path) << "old";
  const auto frames = make_frames(2, 3, false);
  DcdWriter writer(path.string(), 3);
  for (const Frame& f : frames) writer.write(f);
  EXPECT_EQ(fs::file_size(path), 3u);  // still the old content
  writer.close();
  writer.close();  // harmless
  DcdReader reader(path.string());
  expect_same_frames(read_all(reader), frames);
  EXPECT_THROW(writer.write(frames[0]), OutputError);
}

// ---- other flavours, built byte by byte ----

TEST_F(DcdFlavours, FixedAtoms) {
  // 5 atoms; atoms 2 and 4 (1-based) are fixed, so later frames hold 1, 3, 5.
  const std::vector<float> frame0 = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};
  const std::vector<float> free1 = {-1, -2, -3, -7, -8, -9, -13, -14, -15};
  const std::vector<float> free2 = {21, 22, 23, 27, 28, 29, 33, 34, 35};
  for (bool big : {false, true}) {
    SCOPED_TRACE(big ? "big endian" : "little endian");
    DcdBuilder b(big, 4);
    b.charmm_header(3, 100, 10, 2, 1.0f, false, false);
    b.title_and_atoms(5);
    b.record(b.payload().i32(1).i32(3).i32(5));
    b.coordinates(frame0);
    b.coordinates(free1);
    b.coordinates(free2);
    const fs::path path = file(big ? "fixed-be.dcd" : "fixed-le.dcd");
    save(path, b.bytes());

    DcdReader reader(path.string());
    EXPECT_EQ(reader.atom_count(), 5u);
    EXPECT_EQ(reader.fixed_atom_count(), 2u);
    EXPECT_EQ(reader.frame_count(), 3u);
    const auto frames = read_all(reader);
    ASSERT_EQ(frames.size(), 3u);
    EXPECT_EQ(frames[0].xyz, frame0);
    EXPECT_EQ(frames[1].xyz, (std::vector<float>{-1, -2, -3, 4, 5, 6, -7, -8, -9, 10, 11, 12, -13, -14, -15}));
    EXPECT_EQ(frames[2].xyz, (std::vector<float>{21, 22, 23, 4, 5, 6, 27, 28, 29, 10, 11, 12, 33, 34, 35}));
    EXPECT_EQ(frames[2].step, 120);
    EXPECT_NEAR(frames[2].time_ps, 120 * 0.04888821, 1e-9);

    // Skipping frame 0 must still pick up the fixed atoms' positions.
    DcdReader skipper(path.string());
    Frame frame;
    ASSERT_TRUE(skipper.skip());
    ASSERT_TRUE(skipper.skip());
    ASSERT_TRUE(skipper.read(frame));
    EXPECT_EQ(frame.xyz, frames[2].xyz);
    // Rewound, frame 0 comes back whole and the later frames still have the fixed atoms.
    skipper.rewind();
    EXPECT_EQ(read_all(skipper).back().xyz, frames[2].xyz);
    skipper.rewind();
    ASSERT_TRUE(skipper.read(frame));
    EXPECT_EQ(frame.xyz, frame0);
  }
}

TEST_F(DcdFlavours, NamdCosineCellAnd4thDimension) {
  DcdBuilder b(false, 4);
  b.charmm_header(2, 0, 1, 0, 2.0f, true, true);
  b.title_and_atoms(2);
  const double cos60 = 0.5;
  // A, cos(gamma), B, cos(beta), cos(alpha), C: gamma = 60, beta = alpha = 90.
  b.cell({40.0, cos60, 41.0, 0.0, 0.0, 42.0});
  b.coordinates({1, 2, 3, 4, 5, 6}, true);
  b.cell({0, 0, 0, 0, 0, 0});  // NAMD writes zeros without periodic boundaries
  b.coordinates({7, 8, 9, 10, 11, 12}, true);
  const fs::path path = file("namd.dcd");
  save(path, b.bytes());

  DcdReader reader(path.string());
  const auto frames = read_all(reader);
  ASSERT_EQ(frames.size(), 2u);
  ASSERT_TRUE(frames[0].cell.has_value());
  EXPECT_EQ(frames[0].cell->a, 40.0);
  EXPECT_EQ(frames[0].cell->b, 41.0);
  EXPECT_EQ(frames[0].cell->c, 42.0);
  EXPECT_EQ(frames[0].cell->alpha, 90.0);  // exact thanks to 90 - asin
  EXPECT_EQ(frames[0].cell->beta, 90.0);
  EXPECT_NEAR(frames[0].cell->gamma, 60.0, 1e-12);
  EXPECT_EQ(frames[0].xyz, (std::vector<float>{1, 2, 3, 4, 5, 6}));
  EXPECT_FALSE(frames[1].cell.has_value());
  EXPECT_EQ(frames[1].xyz, (std::vector<float>{7, 8, 9, 10, 11, 12}));
  EXPECT_NEAR(frames[1].time_ps, 2.0 * 0.04888821, 1e-7);
}

TEST_F(DcdFlavours, XplorWith64BitMarkers) {
  for (bool big : {false, true}) {
    SCOPED_TRACE(big ? "big endian" : "little endian");
    DcdBuilder b(big, 8);
    b.xplor_header(2, 5, 5, 0.5);
    b.title_and_atoms(3);
    b.coordinates({1, 2, 3, 4, 5, 6, 7, 8, 9});
    b.coordinates({9, 8, 7, 6, 5, 4, 3, 2, 1});
    const fs::path path = file("xplor.dcd");
    save(path, b.bytes());

    DcdReader reader(path.string());
    EXPECT_EQ(reader.big_endian(), big);
    EXPECT_FALSE(reader.has_unit_cell());
    EXPECT_EQ(reader.title().size(), 2u);
    EXPECT_EQ(reader.title()[1], "REMARKS second line");
    EXPECT_NEAR(reader.timestep_ps(), 0.5 * 0.04888821, 1e-12);
    const auto frames = read_all(reader);
    ASSERT_EQ(frames.size(), 2u);
    EXPECT_EQ(frames[1].xyz, (std::vector<float>{9, 8, 7, 6, 5, 4, 3, 2, 1}));
    EXPECT_EQ(frames[1].step, 10);
  }
}

// ---- real data ----

TEST(DcdRealData, MurdTrajectory) {
  const char* env = std::getenv("MOLEARN_DATA");
  const fs::path data = env && *env ? fs::path(env) : fs::path(MOLEARN_DEFAULT_DATA);
  const fs::path dcd = data / "murd" / "MurD_test.dcd";
  if (!fs::exists(dcd))
    GTEST_SKIP() << "shared data folder missing: " << dcd << " not found (set MOLEARN_DATA to the data folder)";

  DcdReader reader(dcd.string());
  EXPECT_EQ(reader.atom_count(), 3286u);
  EXPECT_EQ(reader.frame_count(), 16u);
  const auto frames = read_all(reader);
  ASSERT_EQ(frames.size(), 16u);
  for (const Frame& f : frames) {
    ASSERT_EQ(f.xyz.size(), 3 * 3286u);
    for (float v : f.xyz) ASSERT_TRUE(std::isfinite(v));
  }

  // The same frames exist as a PDB file, each translated by some vector:
  // compare centred coordinates (the PDB rounds to 0.001 Å).
  // The shared data ship it beside the DCD: its absence is a broken data
  // folder, not a reason to pass without comparing.
  std::ifstream pdb(data / "murd" / "MurD_test.pdb");
  ASSERT_TRUE(pdb) << (data / "murd" / "MurD_test.pdb") << " is missing beside " << dcd;
  std::vector<double> ref;
  std::string line;
  while (std::getline(pdb, line))
    if (line.rfind("ATOM", 0) == 0 || line.rfind("HETATM", 0) == 0)
      for (std::size_t axis = 0; axis < 3; ++axis) ref.push_back(std::stod(line.substr(30 + 8 * axis, 8)));
  ASSERT_EQ(ref.size(), 16u * 3 * 3286);
  auto centroid = [](auto first, std::size_t atoms, std::size_t axis) {
    double sum = 0;
    for (std::size_t i = 0; i < atoms; ++i) sum += first[3 * i + axis];
    return sum / double(atoms);
  };
  std::size_t mismatches = 0;
  double worst = 0;
  for (std::size_t f = 0; f < 16; ++f) {
    const float* got = frames[f].xyz.data();
    const double* want = ref.data() + f * 3 * 3286;
    for (std::size_t axis = 0; axis < 3; ++axis) {
      const double cg = centroid(got, 3286, axis), cw = centroid(want, 3286, axis);
      for (std::size_t i = 0; i < 3286; ++i) {
        const double d = std::abs((got[3 * i + axis] - cg) - (want[3 * i + axis] - cw));
        worst = std::max(worst, d);
        if (d > 6e-4) ++mismatches;
      }
    }
  }
  EXPECT_EQ(mismatches, 0u) << "largest difference " << worst << " A";
}
