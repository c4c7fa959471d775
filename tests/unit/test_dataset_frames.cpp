#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <string>
#include <vector>

#include "molearn/core/error.hpp"
#include "molearn/data/dataset_file.hpp"
#include "molearn/data/dataset_frames.hpp"
#include "test_support.hpp"

using namespace molearn;

namespace {

// A dataset of `frames` frames of a chain of `atoms` CA atoms, each value
// different, so that a frame read from the wrong place shows.
Dataset numbered_dataset(std::size_t frames, std::size_t atoms) {
  std::vector<Atom> list;
  for (std::size_t i = 0; i < atoms; ++i)
    list.push_back({"CA", "ALA", static_cast<int>(i + 1), ' ', "A", "C", false, static_cast<int>(i + 1)});
  Dataset d;
  d.topology = Topology(std::move(list));
  d.termini = std::vector<ResidueTermini>(d.topology.residue_count());
  d.frame_count = frames;
  d.coords.resize(frames * atoms * 3);
  for (std::size_t i = 0; i < d.coords.size(); ++i) d.coords[i] = static_cast<float>(i % 1000003) * 1e-3f;
  d.std = 2;
  for (std::size_t f = 0; f < frames; ++f) (f % 4 == 3 ? d.valid_indices : d.train_indices).push_back(f);
  d.sources = {"made.dcd"};
  d.topology_source = "made.pdb";
  for (std::size_t f = 0; f < frames; ++f) d.origins.push_back({0, f});
  return d;
}

std::vector<float> frames_of(const Dataset& d, const std::vector<std::size_t>& rows) {
  std::vector<float> out;
  for (std::size_t r : rows) {
    const auto frame = d.frame(r);
    out.insert(out.end(), frame.begin(), frame.end());
  }
  return out;
}

// Overwrites 4 bytes of the coordinates at float index `at`.
void poke_float(const std::string& path, std::size_t at, float value) {
  DatasetDataSection section;
  read_dataset_metadata(path, section);
  std::fstream file(path, std::ios::binary | std::ios::in | std::ios::out);
  file.seekp(static_cast<std::streamoff>(section.offset + at * sizeof(float)));
  file.write(reinterpret_cast<const char*>(&value), sizeof value);
}

std::string error_of(const std::string& path) {
  try {
    DatasetDataSection section;
    const Dataset metadata = read_dataset_metadata(path, section);
    DatasetFrameReader reader(path, metadata, section);
  } catch (const FormatError& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST(DatasetFrameReader, ReadsTheFramesAskedForInTheirOrder) {
  test::TempDir dir;
  const Dataset d = numbered_dataset(9, 5);
  write_dataset(d, dir.file("d.mlds"));
  DatasetDataSection section;
  const Dataset metadata = read_dataset_metadata(dir.file("d.mlds"), section);
  EXPECT_TRUE(metadata.coords.empty());
  EXPECT_EQ(section.bytes, d.coords.size() * sizeof(float));
  DatasetFrameReader reader(dir.file("d.mlds"), metadata, section);
  const std::vector<std::size_t> rows = {8, 0, 3, 3};
  std::vector<float> out(rows.size() * 15);
  reader.read(rows, out.data());
  EXPECT_EQ(out, frames_of(d, rows));
  const std::vector<std::size_t> beyond = {9};
  EXPECT_THROW(reader.read(beyond, out.data()), InputError);
}

// The checks of the whole file go through a bounded buffer (4 Mi floats):
// this dataset has 6 Mi floats, so the damage lies in the second chunk.
TEST(DatasetFrameReader, ChecksTheWholeFileInChunks) {
  test::TempDir dir;
  const std::size_t frames = 1024, atoms = 2048;
  write_dataset(numbered_dataset(frames, atoms), dir.file("nan.mlds"));
  const std::size_t late = (frames - 2) * atoms * 3 + 7 * 3 + 1;  // frame 1022, atom 8, y
  poke_float(dir.file("nan.mlds"), late, std::numeric_limits<float>::quiet_NaN());
  // The checksum no longer matches: a damaged file is reported as damaged.
  EXPECT_NE(error_of(dir.file("nan.mlds")).find("checksum"), std::string::npos) << error_of(dir.file("nan.mlds"));

  // A NaN written with a valid checksum (by a buggy tool) is found and located.
  Dataset with_nan = numbered_dataset(frames, atoms);
  with_nan.coords[late] = std::numeric_limits<float>::quiet_NaN();
  write_dataset(with_nan, dir.file("written_nan.mlds"));
  const std::string message = error_of(dir.file("written_nan.mlds"));
  EXPECT_NE(message.find("frame 1022 (0-based): atom 8 has a non-finite coordinate"), std::string::npos) << message;
  // read_dataset (everything in memory) says the same.
  try {
    read_dataset(dir.file("written_nan.mlds"));
    ADD_FAILURE() << "expected FormatError";
  } catch (const FormatError& e) {
    EXPECT_EQ(std::string(e.what()), message);
  }
}

TEST(DatasetFrameReader, AFileCutAfterOpeningIsAFormatError) {
  test::TempDir dir;
  write_dataset(numbered_dataset(6, 4), dir.file("d.mlds"));
  DatasetDataSection section;
  const Dataset metadata = read_dataset_metadata(dir.file("d.mlds"), section);
  DatasetFrameReader reader(dir.file("d.mlds"), metadata, section);
  std::filesystem::resize_file(dir.file("d.mlds"), section.offset + 2 * 4 * 3 * sizeof(float));
  std::vector<float> out(12);
  const std::vector<std::size_t> first = {1}, last = {5};
  reader.read(first, out.data());
  EXPECT_THROW(reader.read(last, out.data()), FormatError);
}
