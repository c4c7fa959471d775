// The CRC-32 check of the records of a checkpoint's zip archive
// (io/zip_record_checksums.hpp), on small archives written here in the
// layouts it reads: plain, zip64, with data descriptors or without, with a
// compressed record it leaves to libtorch.
#include "molearn/io/zip_record_checksums.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "molearn/core/error.hpp"
#include "test_support.hpp"

namespace molearn {
namespace {

using namespace std::string_literals;

std::uint32_t crc32_of(const std::string& bytes) {  // the zip polynomial, bit by bit
  std::uint32_t crc = 0xFFFFFFFFu;
  for (unsigned char c : bytes) {
    crc ^= c;
    for (int k = 0; k < 8; ++k) crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
  }
  return ~crc;
}

// `value` as `bytes` little-endian bytes (zeros beyond the eighth).
void put(std::string& out, std::uint64_t value, int bytes) {
  for (int i = 0; i < bytes; ++i) out += static_cast<char>(i < 8 ? (value >> (8 * i)) & 0xFF : 0);
}

struct Record {
  std::string name, data;
  int method = 0;         // 0 stored; 8 "deflated" (the bytes are not checked)
  std::uint32_t crc = 0;  // of the data as stored when 0
};

// A zip archive of `records`. `zip64`: sizes and offsets in zip64 extra
// fields and a zip64 end record; `descriptor`: sizes after the data, as
// libtorch writes them.
std::string zip_of(const std::vector<Record>& records, bool zip64 = false, bool descriptor = true) {
  std::string out, directory;
  for (const Record& r : records) {
    const std::uint64_t local = out.size();
    const std::uint32_t crc = r.crc ? r.crc : crc32_of(r.data);
    put(out, 0x04034b50, 4);
    put(out, 20, 2);
    put(out, descriptor ? 0x0808 : 0x0800, 2);
    put(out, r.method, 2);
    put(out, 0, 4);  // time, date
    put(out, descriptor ? 0 : crc, 4);
    put(out, descriptor ? 0 : r.data.size(), 4);
    put(out, descriptor ? 0 : r.data.size(), 4);
    put(out, r.name.size(), 2);
    put(out, 4, 2);
    out += r.name + "FB\0\0"s;  // libtorch's padding field, empty
    out += r.data;
    if (descriptor) {
      put(out, 0x08074b50, 4);
      put(out, crc, 4);
      put(out, r.data.size(), 4);
      put(out, r.data.size(), 4);
    }
    put(directory, 0x02014b50, 4);
    put(directory, 45, 2);
    put(directory, 45, 2);
    put(directory, descriptor ? 0x0808 : 0x0800, 2);
    put(directory, r.method, 2);
    put(directory, 0, 4);
    put(directory, crc, 4);
    put(directory, zip64 ? 0xFFFFFFFF : r.data.size(), 4);
    put(directory, zip64 ? 0xFFFFFFFF : r.data.size(), 4);
    put(directory, r.name.size(), 2);
    put(directory, zip64 ? 28 : 0, 2);
    put(directory, 0, 2 + 2 + 2 + 4);  // comment, disk, attributes
    put(directory, zip64 ? 0xFFFFFFFF : local, 4);
    directory += r.name;
    if (zip64) {
      put(directory, 1, 2);
      put(directory, 24, 2);
      put(directory, r.data.size(), 8);
      put(directory, r.data.size(), 8);
      put(directory, local, 8);
    }
  }
  const std::uint64_t directory_offset = out.size();
  out += directory;
  if (zip64) {
    const std::uint64_t end64 = out.size();
    put(out, 0x06064b50, 4);
    put(out, 44, 8);
    put(out, 45, 2);
    put(out, 45, 2);
    put(out, 0, 8);  // disks
    put(out, records.size(), 8);
    put(out, records.size(), 8);
    put(out, directory.size(), 8);
    put(out, directory_offset, 8);
    put(out, 0x07064b50, 4);
    put(out, 0, 4);
    put(out, end64, 8);
    put(out, 1, 4);
  }
  put(out, 0x06054b50, 4);
  put(out, 0, 4);
  put(out, zip64 ? 0xFFFF : records.size(), 2);
  put(out, zip64 ? 0xFFFF : records.size(), 2);
  put(out, zip64 ? 0xFFFFFFFF : directory.size(), 4);
  put(out, zip64 ? 0xFFFFFFFF : directory_offset, 4);
  put(out, 0, 2);
  return out;
}

const std::vector<Record> kRecords = {{"archive/data.pkl", "\x80\x02}q\x00."},
                                      {"archive/data/0", std::string(1000, '\x3f')},
                                      {"archive/code/__torch__.py", "not deflate data", 8, 0x12345678},
                                      {"archive/version", "3\n"}};

// The message of the FormatError `path` is refused with ("" if accepted).
std::string refusal(const std::string& path) {
  try {
    verify_record_checksums(path);
    return "";
  } catch (const FormatError& e) {
    return e.what();
  }
}

TEST(ZipRecordChecksums, AcceptsIntactArchivesInEachLayout) {
  test::TempDir dir;
  for (const bool zip64 : {false, true})
    for (const bool descriptor : {false, true}) {
      test::write_text(dir.file("a.ckpt"), zip_of(kRecords, zip64, descriptor));
      EXPECT_EQ(refusal(dir.file("a.ckpt")), "") << "zip64 " << zip64 << ", descriptor " << descriptor;
    }
}

TEST(ZipRecordChecksums, AFlippedBitIsFoundInAnyStoredRecord) {
  test::TempDir dir;
  const std::string intact = zip_of(kRecords);
  for (const std::string record : {"archive/data/0", "archive/version"}) {
    std::string bytes = intact;
    const std::size_t at = bytes.find(record + "FB") + record.size() + 4;  // the record's first data byte
    bytes[at] = static_cast<char>(bytes[at] ^ 0x04);
    test::write_text(dir.file("flipped.ckpt"), bytes);
    const std::string message = refusal(dir.file("flipped.ckpt"));
    EXPECT_NE(message.find("'" + record + "' does not match its checksum"), std::string::npos) << message;
    EXPECT_NE(message.find(dir.file("flipped.ckpt")), std::string::npos) << message;
  }
}

TEST(ZipRecordChecksums, RefusesWhatIsNoArchive) {
  test::TempDir dir;
  test::write_text(dir.file("text.ckpt"), std::string(100, 'x'));
  EXPECT_NE(refusal(dir.file("text.ckpt")).find("not a molearn checkpoint"), std::string::npos);
  const std::string intact = zip_of(kRecords);
  test::write_text(dir.file("cut.ckpt"), intact.substr(0, intact.size() - 30));
  EXPECT_NE(refusal(dir.file("cut.ckpt")), "");
  test::write_text(dir.file("cut_record.ckpt"), intact.substr(0, 200) + intact.substr(intact.find("PK\x01\x02"s)));
  EXPECT_NE(refusal(dir.file("cut_record.ckpt")).find("corrupt checkpoint"), std::string::npos);
  EXPECT_THROW(verify_record_checksums(dir.path().string()), InputError);  // a folder
}

// Found while reviewing the reader for its fuzz target
// (tests/fuzz/regressions/checkpoint/overlapping_records.ckpt): directory
// entries that all point at one large record were each checked, which took
// time quadratic in the file size. Records may not overlap.
TEST(ZipRecordChecksums, RefusesRecordsThatOverlap) {
  const std::string path = (test::source_dir() / "tests/fuzz/regressions/checkpoint/overlapping_records.ckpt").string();
  const std::string message = refusal(path);
  EXPECT_NE(message.find("'archive/data/0' overlaps other records"), std::string::npos) << message;
}

}  // namespace
}  // namespace molearn
