// XTC reader: coordinates, time, step and box against MDTraj's reading of the
// fixtures in tests/fixtures/xtc (see make_fixtures.py there), stride via
// skip(), and damaged files (truncated, corrupt fields, random bit flips) that
// must give a FormatError naming the frame, never a crash or a hang.
#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <vector>

#include "molearn/core/error.hpp"
#include "molearn/io/xtc_compression.hpp"
#include "molearn/io/xtc_reader.hpp"
#include "test_support.hpp"

namespace fs = std::filesystem;
using namespace molearn;
using molearn::test::TempDir;

namespace {

fs::path fixture_dir() { return molearn::test::source_dir() / "tests" / "fixtures" / "xtc"; }
constexpr const char* kFrame0 = "/usr/share/doc/python-mdtraj-doc/examples/data/frame0.xtc";

std::vector<std::uint8_t> load(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void save(const fs::path& path, const std::vector<std::uint8_t>& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
}

const nlohmann::json& expected() {
  static const nlohmann::json j = [] {
    std::ifstream in(fixture_dir() / "expected.json");
    return nlohmann::json::parse(in);
  }();
  return j;
}

// A minimal reader of the .npy files numpy.save writes for a little-endian
// float32 C-ordered array: magic, version, header length, a Python dict
// literal, then the raw data.
struct Npy {
  std::vector<std::size_t> shape;
  std::vector<float> data;
};

Npy load_npy(const fs::path& path) {
  static_assert(std::endian::native == std::endian::little);
  const std::vector<std::uint8_t> b = load(path);
  if (b.size() < 10 || std::memcmp(b.data(), "\x93NUMPY", 6) != 0)
    throw std::runtime_error(path.string() + ": not an .npy file");
  const int major = b[6];
  std::size_t header_len, start;
  if (major == 1) {
    header_len = b[8] | (b[9] << 8);
    start = 10;
  } else {
    header_len = b[8] | (b[9] << 8) | (b[10] << 16) | (std::size_t{b[11]} << 24);
    start = 12;
  }
  const std::string header(b.begin() + static_cast<long>(start), b.begin() + static_cast<long>(start + header_len));
  if (header.find("'descr': '<f4'") == std::string::npos || header.find("'fortran_order': False") == std::string::npos)
    throw std::runtime_error(path.string() + ": expected C-ordered <f4, header " + header);
  const std::size_t open = header.find('(', header.find("'shape'"));
  const std::size_t close = header.find(')', open);
  Npy npy;
  std::size_t count = 1;
  for (std::size_t p = open + 1; p < close;) {
    std::size_t used = 0;
    const unsigned long v = std::stoul(header.substr(p, close - p), &used);
    npy.shape.push_back(v);
    count *= v;
    p += used;
    while (p < close && (header[p] == ',' || header[p] == ' ')) ++p;
  }
  const std::size_t data_start = start + header_len;
  if (b.size() != data_start + 4 * count) throw std::runtime_error(path.string() + ": wrong data size");
  npy.data.resize(count);
  std::memcpy(npy.data.data(), b.data() + data_start, 4 * count);
  return npy;
}

// Byte offsets of the records of an XTC file, found independently of the
// reader from the record layout (56-byte header, then 12*natoms bytes, or a
// 36-byte packing header and the padded block).
std::vector<std::size_t> record_offsets(const std::vector<std::uint8_t>& b) {
  auto be = [&](std::size_t at) {
    return static_cast<std::uint32_t>(b[at]) << 24 | static_cast<std::uint32_t>(b[at + 1]) << 16 |
           static_cast<std::uint32_t>(b[at + 2]) << 8 | b[at + 3];
  };
  std::vector<std::size_t> out;
  std::size_t at = 0;
  while (at + 56 <= b.size()) {
    out.push_back(at);
    const std::uint32_t natoms = be(at + 4);
    if (natoms <= 9) {
      at += 56 + 12 * natoms;
    } else {
      at += 92 + ((be(at + 88) + 3) & ~3u);
    }
  }
  return out;
}

void put_be32(std::vector<std::uint8_t>& b, std::size_t at, std::uint32_t v) {
  b[at] = static_cast<std::uint8_t>(v >> 24);
  b[at + 1] = static_cast<std::uint8_t>(v >> 16);
  b[at + 2] = static_cast<std::uint8_t>(v >> 8);
  b[at + 3] = static_cast<std::uint8_t>(v);
}

// Runs `f`, expects FormatError and returns its message.
template <class F>
std::string format_error(F&& f) {
  try {
    f();
  } catch (const FormatError& e) {
    return e.what();
  }
  ADD_FAILURE() << "expected FormatError";
  return {};
}

void expect_frame(const Frame& frame, const Npy& npy, std::size_t picked, const nlohmann::json& info,
                  std::size_t info_index, const std::string& what) {
  const std::size_t natoms = npy.shape[1];
  ASSERT_EQ(frame.xyz.size(), 3 * natoms) << what;
  float max_diff = 0;
  const float* ref = npy.data.data() + picked * 3 * natoms;
  for (std::size_t k = 0; k < 3 * natoms; ++k) max_diff = std::max(max_diff, std::abs(frame.xyz[k] - ref[k]));
  EXPECT_LE(max_diff, 1e-3f) << what;
  EXPECT_NEAR(frame.time_ps, info["time"][info_index].get<double>(), 1e-6) << what;
  EXPECT_EQ(frame.step, info["step"][info_index].get<long>()) << what;
  const nlohmann::json& cell = info["cell"][info_index];
  if (cell.is_null()) {
    EXPECT_FALSE(frame.cell.has_value()) << what;
  } else {
    ASSERT_TRUE(frame.cell.has_value()) << what;
    EXPECT_NEAR(frame.cell->a, cell[0].get<double>(), 1e-3) << what;
    EXPECT_NEAR(frame.cell->b, cell[1].get<double>(), 1e-3) << what;
    EXPECT_NEAR(frame.cell->c, cell[2].get<double>(), 1e-3) << what;
    EXPECT_NEAR(frame.cell->alpha, cell[3].get<double>(), 1e-3) << what;
    EXPECT_NEAR(frame.cell->beta, cell[4].get<double>(), 1e-3) << what;
    EXPECT_NEAR(frame.cell->gamma, cell[5].get<double>(), 1e-3) << what;
  }
}

}  // namespace

// ---- the bit-level decoder ----

TEST(XtcCompression, MagicIntsPackIntoSmallidxBits) {
  // The small-atom triple is sent in exactly smallidx bits, so the cube of
  // each radix must fit, and the table must grow by about 2^(1/3).
  for (int i = xtc::kFirstIdx; i < xtc::kLastIdx; ++i) {
    const double cube = std::pow(static_cast<double>(xtc::kMagicInts[i]), 3);
    EXPECT_LE(cube, std::ldexp(1.0, i)) << "index " << i;
    EXPECT_GT(cube, std::ldexp(1.0, i - 1)) << "index " << i;
  }
  EXPECT_EQ(xtc::kLastIdx, 73);
  EXPECT_EQ(xtc::kMagicInts[xtc::kLastIdx - 1], 1 << 24);
}

TEST(XtcCompression, BitWidths) {
  EXPECT_EQ(xtc::bits_for_range(1), 1);
  EXPECT_EQ(xtc::bits_for_range(255), 8);
  EXPECT_EQ(xtc::bits_for_range(256), 9);
  EXPECT_EQ(xtc::bits_for_range(std::uint64_t{1} << 32), 32);  // capped as writers do
  const std::uint32_t a[3] = {8, 8, 8};                        // 512
  EXPECT_EQ(xtc::bits_for_ranges(a), 10);
  const std::uint32_t b[3] = {71, 67, 37};  // frame0.xtc's first frame: 176009
  EXPECT_EQ(xtc::bits_for_ranges(b), 18);
  const std::uint32_t c[3] = {0xffffff, 0xffffff, 0xffffff};  // just below 2^72
  EXPECT_EQ(xtc::bits_for_ranges(c), 72);
  const std::uint32_t d[3] = {1 << 22, 1 << 21, 1 << 21};  // exactly 2^64
  EXPECT_EQ(xtc::bits_for_ranges(d), 65);
}

TEST(XtcCompression, BitReaderIsMsbFirstAndBounded) {
  // 11 bytes: more than one 8-byte refill, then the byte-wise tail.
  const std::uint8_t bytes[11] = {0xA5, 0x0F, 0xF0, 0x12, 0x34, 0x56, 0x78, 0x9A, 0xBC, 0xDE, 0x80};
  xtc::BitReader in(bytes, sizeof bytes);
  EXPECT_EQ(in.read(1), 1u);
  EXPECT_EQ(in.read(3), 0b010u);
  EXPECT_EQ(in.read(8), 0x50u);
  EXPECT_EQ(in.read(12), 0xFF0u);
  EXPECT_EQ(in.read(32), 0x12345678u);
  EXPECT_EQ(in.read(20), 0x9ABCDu);
  EXPECT_EQ(in.read(5), 0b11101u);
  EXPECT_EQ(in.bits_left(), 7u);
  EXPECT_THROW(in.read(8), FormatError);
}

TEST(XtcCompression, RejectsImpossibleHeaders) {
  xtc::CompressedHeader h;
  h.maxint[0] = h.maxint[1] = h.maxint[2] = 100;
  EXPECT_NO_THROW(xtc::validate_header(h));
  auto bad = h;
  bad.smallidx = 8;
  EXPECT_THROW(xtc::validate_header(bad), FormatError);
  bad.smallidx = 73;
  EXPECT_THROW(xtc::validate_header(bad), FormatError);
  bad = h;
  bad.precision = std::numeric_limits<float>::quiet_NaN();
  EXPECT_THROW(xtc::validate_header(bad), FormatError);
  bad = h;
  bad.minint[1] = 101;
  EXPECT_THROW(xtc::validate_header(bad), FormatError);
}

TEST(XtcCompression, EmptyBlockFailsCleanly) {
  xtc::CompressedHeader h;
  h.maxint[0] = h.maxint[1] = h.maxint[2] = 1000;
  std::vector<float> out(30, -1.0f);
  EXPECT_THROW(xtc::decompress_coords(h, nullptr, 0, 10, 10.0f, out.data()), FormatError);
}

// ---- agreement with MDTraj ----

class XtcMatchesMdtraj : public ::testing::TestWithParam<std::string> {};

TEST_P(XtcMatchesMdtraj, EveryFrame) {
  const nlohmann::json& info = expected().at(GetParam());
  const Npy npy = load_npy(fixture_dir() / info["coords"].get<std::string>());
  const std::size_t frames = info["frames"].get<std::size_t>();
  const std::size_t natoms = info["natoms"].get<std::size_t>();
  ASSERT_EQ(npy.shape, (std::vector<std::size_t>{frames, natoms, 3}));

  XtcReader reader((fixture_dir() / info["file"].get<std::string>()).string());
  EXPECT_EQ(reader.atom_count(), natoms);
  EXPECT_FALSE(reader.frame_count().has_value());
  Frame frame;
  for (std::size_t i = 0; i < frames; ++i) {
    ASSERT_EQ(reader.position(), i);
    ASSERT_TRUE(reader.read(frame)) << "frame " << i;
    expect_frame(frame, npy, i, info, i, GetParam() + " frame " + std::to_string(i));
  }
  EXPECT_FALSE(reader.read(frame));
  EXPECT_FALSE(reader.read(frame));  // stays at the end
  EXPECT_EQ(reader.position(), frames);
}

INSTANTIATE_TEST_SUITE_P(Xtc, XtcMatchesMdtraj,
                         ::testing::Values("protein", "water", "tiny", "coarse", "fine", "big", "wide"),
                         [](const auto& p) { return p.param; });

TEST(XtcReader, FixturesCoverTheDecoderPaths) {
  // Guards the fixtures themselves: the cases the decoder must see are there.
  const nlohmann::json& e = expected();
  EXPECT_LE(e["tiny"]["natoms"].get<int>(), 9);  // uncompressed record
  EXPECT_EQ(e["coarse"]["precision"].get<double>(), 100.0);
  EXPECT_EQ(e["fine"]["precision"].get<double>(), 10000.0);
  // wide: the x range exceeds 2^24 integer units -> separate bit fields.
  const std::vector<std::uint8_t> wide = load(fixture_dir() / "wide.xtc");
  const auto be = [&](std::size_t at) {
    return static_cast<std::int32_t>(static_cast<std::uint32_t>(wide[at]) << 24 | wide[at + 1] << 16 |
                                     wide[at + 2] << 8 | wide[at + 3]);
  };
  EXPECT_GT(std::int64_t{be(72)} - be(60) + 1, xtc::kMaxPackedRange);
  // big: the packed triple needs more than 64 bits.
  const std::vector<std::uint8_t> big = load(fixture_dir() / "big.xtc");
  std::uint32_t ranges[3];
  for (int k = 0; k < 3; ++k) {
    auto at = [&](std::size_t o) {
      return static_cast<std::int32_t>(static_cast<std::uint32_t>(big[o]) << 24 | big[o + 1] << 16 | big[o + 2] << 8 |
                                       big[o + 3]);
    };
    ranges[k] = static_cast<std::uint32_t>(at(72 + 4 * k) - at(60 + 4 * k) + 1);
  }
  EXPECT_GT(xtc::bits_for_ranges(ranges), 64);
}

TEST(XtcReader, StrideWithSkip) {
  const nlohmann::json& info = expected().at("protein");
  const Npy npy = load_npy(fixture_dir() / "protein.npy");
  XtcReader reader((fixture_dir() / "protein.xtc").string());
  Frame frame;
  std::size_t read_count = 0;
  for (std::size_t i = 0;; ++i) {
    if (i % 3 == 0) {
      if (!reader.read(frame)) break;
      expect_frame(frame, npy, i, info, i, "stride frame " + std::to_string(i));
      ++read_count;
    } else if (!reader.skip()) {
      break;
    }
    EXPECT_EQ(reader.position(), i + 1);
  }
  EXPECT_EQ(read_count, 4u);  // frames 0, 3, 6, 9
  EXPECT_EQ(reader.position(), 12u);
  EXPECT_FALSE(reader.skip());
}

TEST(XtcReader, SkipUncompressed) {
  const nlohmann::json& info = expected().at("tiny");
  const Npy npy = load_npy(fixture_dir() / "tiny.npy");
  XtcReader reader((fixture_dir() / "tiny.xtc").string());
  EXPECT_TRUE(reader.skip());
  EXPECT_TRUE(reader.skip());
  Frame frame;
  ASSERT_TRUE(reader.read(frame));
  expect_frame(frame, npy, 2, info, 2, "tiny frame 2");
  while (reader.skip()) {
  }
  EXPECT_EQ(reader.position(), 6u);
}

TEST(XtcReader, ReusesFrameStorage) {
  XtcReader reader((fixture_dir() / "water.xtc").string());
  Frame frame;
  ASSERT_TRUE(reader.read(frame));
  const float* storage = frame.xyz.data();
  ASSERT_TRUE(reader.read(frame));
  EXPECT_EQ(frame.xyz.data(), storage);
}

TEST(XtcReader, MissingFileIsInputError) {
  try {
    XtcReader reader("/nonexistent/folder/traj.xtc");
    FAIL() << "expected InputError";
  } catch (const FormatError&) {
    FAIL() << "a missing file is not a format error";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent/folder/traj.xtc"), std::string::npos);
  }
}

// ---- MDTraj's example trajectory (Debian package python-mdtraj-doc) ----

TEST(XtcMdtrajExample, Frame0AllFrames) {
  if (!fs::exists(kFrame0)) GTEST_SKIP() << kFrame0 << " is missing; it comes from the python-mdtraj-doc package";
  const nlohmann::json& info = expected().at("frame0");
  const Npy npy = load_npy(fixture_dir() / "frame0_expected.npy");
  const std::vector<std::size_t> picks = info["picks"].get<std::vector<std::size_t>>();

  XtcReader reader(kFrame0);
  ASSERT_EQ(reader.atom_count(), info["natoms"].get<std::size_t>());
  Frame frame;
  std::size_t i = 0, checked = 0;
  while (reader.read(frame)) {
    const auto it = std::find(picks.begin(), picks.end(), i);
    if (it != picks.end()) {
      const auto p = static_cast<std::size_t>(it - picks.begin());
      expect_frame(frame, npy, p, info, p, "frame0.xtc frame " + std::to_string(i));
      ++checked;
    }
    ++i;
  }
  EXPECT_EQ(i, info["frames"].get<std::size_t>());
  EXPECT_EQ(checked, picks.size());
}

// ---- damaged files ----

TEST(XtcErrors, TruncatedInFrame5) {
  TempDir tmp;
  const std::vector<std::uint8_t> full = load(fixture_dir() / "protein.xtc");
  const std::vector<std::size_t> offsets = record_offsets(full);
  ASSERT_EQ(offsets.size(), 12u);
  const std::size_t middle_of_block = (offsets[5] + 92 + offsets[6]) / 2;
  for (std::size_t cut : {offsets[5] + 30, offsets[5] + 70, middle_of_block, offsets[6] - 1}) {
    const std::string path = tmp.file("cut.xtc");
    save(path, std::vector<std::uint8_t>(full.begin(), full.begin() + static_cast<long>(cut)));
    XtcReader reader(path);
    Frame frame;
    for (int i = 0; i < 5; ++i) ASSERT_TRUE(reader.read(frame)) << "frame " << i << ", cut at " << cut;
    const std::string msg = format_error([&] { reader.read(frame); });
    EXPECT_NE(msg.find(path), std::string::npos) << msg;
    EXPECT_NE(msg.find("frame 5 (0-based)"), std::string::npos) << msg;
    EXPECT_NE(msg.find("truncated"), std::string::npos) << msg;
    // skip() notices it as well, from the record header alone.
    XtcReader skipper(path);
    for (int i = 0; i < 5; ++i) ASSERT_TRUE(skipper.skip());
    EXPECT_NE(format_error([&] { skipper.skip(); }).find("frame 5 (0-based)"), std::string::npos);
  }
}

TEST(XtcErrors, TruncatedUncompressed) {
  TempDir tmp;
  const std::vector<std::uint8_t> full = load(fixture_dir() / "tiny.xtc");
  const std::vector<std::size_t> offsets = record_offsets(full);
  ASSERT_EQ(offsets.size(), 6u);
  const std::string path = tmp.file("cut.xtc");
  save(path, std::vector<std::uint8_t>(full.begin(), full.begin() + static_cast<long>(offsets[3] + 60)));
  XtcReader reader(path);
  Frame frame;
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(reader.read(frame));
  const std::string msg = format_error([&] { reader.read(frame); });
  EXPECT_NE(msg.find("frame 3 (0-based)"), std::string::npos) << msg;
  EXPECT_NE(msg.find("truncated"), std::string::npos) << msg;
}

TEST(XtcErrors, EmptyFile) {
  TempDir tmp;
  save(tmp.file("empty.xtc"), {});
  const std::string msg = format_error([&] { XtcReader reader(tmp.file("empty.xtc")); });
  EXPECT_NE(msg.find("empty.xtc"), std::string::npos) << msg;
}

TEST(XtcErrors, CorruptMagic) {
  TempDir tmp;
  std::vector<std::uint8_t> bytes = load(fixture_dir() / "water.xtc");
  const std::vector<std::size_t> offsets = record_offsets(bytes);

  // In the first record the constructor already fails.
  std::vector<std::uint8_t> first = bytes;
  first[3] ^= 0x40;
  save(tmp.file("first.xtc"), first);
  std::string msg = format_error([&] { XtcReader reader(tmp.file("first.xtc")); });
  EXPECT_NE(msg.find("first.xtc"), std::string::npos) << msg;
  EXPECT_NE(msg.find("frame 0 (0-based)"), std::string::npos) << msg;
  EXPECT_NE(msg.find("magic"), std::string::npos) << msg;
  EXPECT_NE(msg.find("1995"), std::string::npos) << msg;

  // Later, read() and skip() fail at that frame.
  put_be32(bytes, offsets[4], 1996);
  save(tmp.file("later.xtc"), bytes);
  XtcReader reader(tmp.file("later.xtc"));
  Frame frame;
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(reader.read(frame));
  msg = format_error([&] { reader.read(frame); });
  EXPECT_NE(msg.find("frame 4 (0-based)"), std::string::npos) << msg;
  EXPECT_NE(msg.find("magic number is 1996, expected 1995"), std::string::npos) << msg;
  // The reader refuses to go on after an error instead of reading garbage.
  msg = format_error([&] { reader.read(frame); });
  EXPECT_NE(msg.find("frame 4 (0-based)"), std::string::npos) << msg;
}

TEST(XtcErrors, AtomCountChanges) {
  TempDir tmp;
  std::vector<std::uint8_t> bytes = load(fixture_dir() / "protein.xtc");
  const std::vector<std::uint8_t> water = load(fixture_dir() / "water.xtc");
  bytes.insert(bytes.end(), water.begin(), water.end());
  save(tmp.file("mixed.xtc"), bytes);
  XtcReader reader(tmp.file("mixed.xtc"));
  for (int i = 0; i < 12; ++i) ASSERT_TRUE(reader.skip());
  const std::string msg = format_error([&] { reader.skip(); });
  EXPECT_NE(msg.find("frame 12 (0-based)"), std::string::npos) << msg;
  EXPECT_NE(msg.find("atom count is 290, expected 240"), std::string::npos) << msg;

  // The two counts of one record disagree.
  std::vector<std::uint8_t> one = load(fixture_dir() / "protein.xtc");
  put_be32(one, record_offsets(one)[2] + 52, 241);
  save(tmp.file("two.xtc"), one);
  XtcReader second(tmp.file("two.xtc"));
  Frame frame;
  ASSERT_TRUE(second.read(frame));
  ASSERT_TRUE(second.read(frame));
  EXPECT_NE(format_error([&] { second.read(frame); }).find("frame 2 (0-based)"), std::string::npos);
}

TEST(XtcErrors, ByteCountBeyondFile) {
  TempDir tmp;
  std::vector<std::uint8_t> bytes = load(fixture_dir() / "protein.xtc");
  put_be32(bytes, record_offsets(bytes)[3] + 88, 1u << 30);
  save(tmp.file("huge.xtc"), bytes);
  XtcReader reader(tmp.file("huge.xtc"));
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(reader.skip());
  const std::string msg = format_error([&] { reader.skip(); });
  EXPECT_NE(msg.find("frame 3 (0-based)"), std::string::npos) << msg;
  EXPECT_NE(msg.find("1073741824"), std::string::npos) << msg;

  put_be32(bytes, record_offsets(load(fixture_dir() / "protein.xtc"))[3] + 88, 0x80000000u);
  save(tmp.file("negative.xtc"), bytes);
  XtcReader neg(tmp.file("negative.xtc"));
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(neg.skip());
  EXPECT_NE(format_error([&] { neg.skip(); }).find("frame 3 (0-based)"), std::string::npos);
}

TEST(XtcErrors, DecodingRunsPastTheBlock) {
  // A byte count too small for the atoms: the decoder must stop at the end of
  // the block (the next bytes belong to the next record).
  TempDir tmp;
  std::vector<std::uint8_t> bytes = load(fixture_dir() / "water.xtc");
  put_be32(bytes, record_offsets(bytes)[4] + 88, 100);  // of ~1000
  save(tmp.file("short.xtc"), bytes);
  XtcReader reader(tmp.file("short.xtc"));
  Frame frame;
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(reader.read(frame));
  const std::string msg = format_error([&] { reader.read(frame); });
  EXPECT_NE(msg.find("frame 4 (0-based)"), std::string::npos) << msg;
  EXPECT_NE(msg.find("end early"), std::string::npos) << msg;

  // Far too small for the atom count: refused before decoding.
  put_be32(bytes, record_offsets(load(fixture_dir() / "water.xtc"))[4] + 88, 16);
  save(tmp.file("tiny_block.xtc"), bytes);
  XtcReader second(tmp.file("tiny_block.xtc"));
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(second.skip());
  EXPECT_NE(format_error([&] { second.read(frame); }).find("cannot hold 290 atoms"), std::string::npos);
}

TEST(XtcErrors, ImpossibleHeaderValues) {
  TempDir tmp;
  const std::vector<std::uint8_t> good = load(fixture_dir() / "protein.xtc");
  const std::size_t at = record_offsets(good)[1];
  const std::uint32_t nan = std::bit_cast<std::uint32_t>(std::numeric_limits<float>::quiet_NaN());
  struct Case {
    std::size_t field;
    std::uint32_t value;
    const char* says;
  };
  const Case cases[] = {
      {84, 80, "smallidx"}, {84, 3, "smallidx"}, {12, nan, "time"},    {56, nan, "precision"},
      {56, 0, "precision"}, {20, nan, "box"},    {60, 5000, "minint"}, {4, 0xffffffffu, "atom count"},
  };
  for (const Case& c : cases) {
    std::vector<std::uint8_t> bytes = good;
    put_be32(bytes, at + c.field, c.value);
    save(tmp.file("bad.xtc"), bytes);
    XtcReader reader(tmp.file("bad.xtc"));
    Frame frame;
    ASSERT_TRUE(reader.read(frame));
    const std::string msg = format_error([&] { reader.read(frame); });
    EXPECT_NE(msg.find("frame 1 (0-based)"), std::string::npos) << msg;
    EXPECT_NE(msg.find(c.says), std::string::npos) << "field " << c.field << ": " << msg;
  }
}

TEST(XtcErrors, UncompressedNaN) {
  TempDir tmp;
  std::vector<std::uint8_t> bytes = load(fixture_dir() / "tiny.xtc");
  put_be32(bytes, record_offsets(bytes)[2] + 56 + 4 * 5,
           std::bit_cast<std::uint32_t>(std::numeric_limits<float>::quiet_NaN()));
  save(tmp.file("nan.xtc"), bytes);
  XtcReader reader(tmp.file("nan.xtc"));
  Frame frame;
  ASSERT_TRUE(reader.read(frame));
  ASSERT_TRUE(reader.read(frame));
  EXPECT_NE(format_error([&] { reader.read(frame); }).find("frame 2 (0-based)"), std::string::npos);
}

// Random damage must end in success or FormatError: never a crash, an
// out-of-bounds access (run under ASan to be sure) or a hang.
TEST(XtcFuzz, RandomDamageNeverCrashes) {
  TempDir tmp;
  std::mt19937 rng(12345);
  std::size_t failures = 0, runs = 0;
  for (const char* name : {"protein", "water", "coarse", "big", "wide", "tiny"}) {
    const std::vector<std::uint8_t> good = load(fixture_dir() / (std::string(name) + ".xtc"));
    for (int trial = 0; trial < 80; ++trial) {
      std::vector<std::uint8_t> bytes = good;
      const int flips = 1 + static_cast<int>(rng() % 4);
      for (int f = 0; f < flips; ++f) bytes[rng() % bytes.size()] ^= static_cast<std::uint8_t>(1u << (rng() % 8));
      if (trial % 5 == 0) bytes.resize(rng() % bytes.size() + 1);
      save(tmp.file("fuzz.xtc"), bytes);
      ++runs;
      try {
        XtcReader reader(tmp.file("fuzz.xtc"));
        Frame frame;
        while (reader.read(frame)) {
        }
      } catch (const FormatError&) {
        ++failures;
      }
    }
  }
  EXPECT_GT(failures, runs / 4);  // most damage is noticed
}

TEST(XtcFuzz, TruncationIsAlwaysNoticed) {
  TempDir tmp;
  const std::vector<std::uint8_t> good = load(fixture_dir() / "coarse.xtc");
  const std::vector<std::size_t> offsets = record_offsets(good);
  // Every byte of the first two records, then a sample of the rest (each cut
  // costs a file; the bytes of later records are no different).
  std::vector<std::size_t> cuts(offsets.begin() + 1, offsets.end());  // clean ends
  for (std::size_t cut = 1; cut < good.size(); cut += cut < offsets[2] + 8 ? 1 : 11) cuts.push_back(cut);
  for (const std::size_t cut : cuts) {
    save(tmp.file("cut.xtc"), std::vector<std::uint8_t>(good.begin(), good.begin() + static_cast<long>(cut)));
    const auto boundary = std::find(offsets.begin(), offsets.end(), cut);
    std::size_t frames = 0;
    bool failed = false;
    try {
      XtcReader reader(tmp.file("cut.xtc"));
      Frame frame;
      while (reader.read(frame)) ++frames;
    } catch (const FormatError&) {
      failed = true;
    }
    if (boundary != offsets.end()) {
      EXPECT_FALSE(failed) << "cut at record boundary " << cut;
      EXPECT_EQ(frames, static_cast<std::size_t>(boundary - offsets.begin()));
    } else {
      EXPECT_TRUE(failed) << "cut at " << cut << " was not noticed";
    }
  }
}
