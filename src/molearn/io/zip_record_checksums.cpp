#include "molearn/io/zip_record_checksums.hpp"

#include <zlib.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <vector>

#include "molearn/core/error.hpp"

namespace molearn {

namespace {

std::uint64_t little_endian(const unsigned char* p, int bytes) {
  std::uint64_t value = 0;
  for (int i = bytes - 1; i >= 0; --i) value = value << 8 | p[i];
  return value;
}

}  // namespace

// A checkpoint is a zip archive (PyTorch's format) whose records are stored
// uncompressed, each with its CRC-32. libtorch's reader does not check them
// (its miniz is built without CRC checks), so flipped bytes would load
// silently: check every record here. Throws FormatError naming the file.
void verify_record_checksums(const std::string& path) {
  if (std::filesystem::is_directory(path)) throw InputError(path + ": is a folder, not a checkpoint file");
  std::ifstream in(path, std::ios::binary);
  in.seekg(0, std::ios::end);
  if (!in || in.tellg() < 0) throw InputError(path + ": cannot be read");
  const auto size = static_cast<std::uint64_t>(in.tellg());
  const auto not_checkpoint = [&] {
    return FormatError(path + ": not a molearn checkpoint (cannot be read as a torch archive)");
  };
  const auto corrupt = [&](const std::string& why) {
    return FormatError(path + ": corrupt checkpoint: " + why + "; the file was damaged or cut after it was written");
  };
  const auto read_at = [&](std::uint64_t offset, unsigned char* buffer, std::uint64_t n) {
    if (offset > size || n > size - offset) throw corrupt("a record lies beyond the end of the file");
    in.seekg(static_cast<std::streamoff>(offset));
    in.read(reinterpret_cast<char*>(buffer), static_cast<std::streamsize>(n));
    if (!in) throw corrupt("cannot read a record");
  };
  // End of central directory: 22 bytes and a comment of at most 65535.
  const std::uint64_t tail_size = std::min<std::uint64_t>(size, 22 + 65535);
  if (tail_size < 22) throw not_checkpoint();
  std::vector<unsigned char> tail(tail_size);
  read_at(size - tail_size, tail.data(), tail_size);
  std::uint64_t eocd = tail_size - 22;
  while (little_endian(&tail[eocd], 4) != 0x06054b50) {
    if (eocd == 0) throw not_checkpoint();
    --eocd;
  }
  std::uint64_t entries = little_endian(&tail[eocd + 10], 2);
  std::uint64_t directory_size = little_endian(&tail[eocd + 12], 4);
  std::uint64_t directory_offset = little_endian(&tail[eocd + 16], 4);
  if (entries == 0xFFFF || directory_size == 0xFFFFFFFF || directory_offset == 0xFFFFFFFF) {  // zip64
    if (eocd < 20 || little_endian(&tail[eocd - 20], 4) != 0x07064b50) throw corrupt("no zip64 directory");
    unsigned char record[56];
    read_at(little_endian(&tail[eocd - 20 + 8], 8), record, sizeof record);
    if (little_endian(record, 4) != 0x06064b50) throw corrupt("no zip64 directory");
    entries = little_endian(record + 32, 8);
    directory_size = little_endian(record + 40, 8);
    directory_offset = little_endian(record + 48, 8);
  }
  if (directory_offset > size || directory_size > size - directory_offset) throw corrupt("bad record directory");
  std::vector<unsigned char> directory(directory_size);
  read_at(directory_offset, directory.data(), directory_size);
  // Records are read in chunks of up to 1 MiB; none is larger than the file.
  std::vector<unsigned char> buffer(std::min<std::uint64_t>(size, 1 << 20));
  std::uint64_t p = 0;
  std::uint64_t checked = 0;  // bytes of the stored records checked so far
  for (std::uint64_t e = 0; e < entries; ++e) {
    if (directory_size - p < 46 || little_endian(&directory[p], 4) != 0x02014b50) throw corrupt("bad record directory");
    const auto method = little_endian(&directory[p + 10], 2);
    const auto crc = static_cast<std::uint32_t>(little_endian(&directory[p + 16], 4));
    std::uint64_t stored_size = little_endian(&directory[p + 20], 4);
    std::uint64_t plain_size = little_endian(&directory[p + 24], 4);
    const auto name_length = little_endian(&directory[p + 28], 2);
    const auto extra_length = little_endian(&directory[p + 30], 2);
    const auto comment_length = little_endian(&directory[p + 32], 2);
    std::uint64_t local = little_endian(&directory[p + 42], 4);
    if (directory_size - p - 46 < name_length + extra_length + comment_length) throw corrupt("bad record directory");
    const std::string name(reinterpret_cast<const char*>(&directory[p + 46]), name_length);
    // zip64 sizes and offsets: in the extra field 0x0001, those that are 0xFFFFFFFF above, in this order.
    for (std::uint64_t x = p + 46 + name_length; x + 4 <= p + 46 + name_length + extra_length;) {
      const auto id = little_endian(&directory[x], 2);
      const auto length = little_endian(&directory[x + 2], 2);
      std::uint64_t q = x + 4;
      const std::uint64_t end = std::min<std::uint64_t>(q + length, p + 46 + name_length + extra_length);
      if (id == 1) {
        for (std::uint64_t* field : {&plain_size, &stored_size, &local})
          if (*field == 0xFFFFFFFF && q + 8 <= end) {
            *field = little_endian(&directory[q], 8);
            q += 8;
          }
      }
      x = end;
    }
    p += 46 + name_length + extra_length + comment_length;
    if (method != 0) continue;  // compressed: not written by libtorch; its reader checks those
    unsigned char header[30];
    read_at(local, header, sizeof header);
    if (little_endian(header, 4) != 0x04034b50) throw corrupt("record '" + name + "' has no header");
    std::uint64_t offset = local + 30 + little_endian(header + 26, 2) + little_endian(header + 28, 2);
    if (offset > size || stored_size > size - offset) throw corrupt("record '" + name + "' is cut short");
    // The records of an archive do not overlap, so together they fit in the
    // file. Directory entries that point at the same bytes again and again
    // would make this check take time quadratic in the file size (hours for
    // a crafted file of a few hundred MB).
    if (stored_size > size - checked) throw corrupt("record '" + name + "' overlaps other records");
    checked += stored_size;
    uLong actual = crc32(0L, Z_NULL, 0);
    for (std::uint64_t left = stored_size; left > 0;) {
      const std::uint64_t chunk = std::min<std::uint64_t>(left, buffer.size());
      read_at(offset, buffer.data(), chunk);
      actual = crc32(actual, buffer.data(), static_cast<uInt>(chunk));
      offset += chunk;
      left -= chunk;
    }
    if (static_cast<std::uint32_t>(actual) != crc)
      throw corrupt("record '" + name + "' does not match its checksum (CRC-32)");
  }
}

}  // namespace molearn
