// Reading back a `molearn scan` folder (analysis/scan_folder.hpp): what is
// read from scan.json and the NPY landscapes, and the files refused, among
// them the inputs the scan fuzz target found (tests/fuzz/regressions/scan).
#include "molearn/analysis/scan_folder.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "molearn/analysis/npy_float64.hpp"
#include "molearn/core/error.hpp"
#include "test_support.hpp"

namespace molearn {
namespace {

using nlohmann::json;

// A scan.json of a 3 x 2 grid with one landscape, error.npy, as molearn scan writes it.
json scan_json() {
  return {{"command", "scan"},
          {"checkpoint", "/abs/run/best.ckpt"},
          {"latent_dim", 2},
          {"plane", nullptr},
          {"x", {-1.0, 0.0, 1.0}},
          {"y", {0.0, 2.0}},
          {"bounds", {-1.0, 1.0, 0.0, 2.0}},
          {"metrics", {{"error", {{"file", "error.npy"}, {"unit", "A"}}}}},
          {"encoded", json::parse(R"({"train": [[0.5, 1.5], [-0.5, 0.25]], "valid": [[0.0, 1.0]]})")}};
}

// Writes `doc` (or the text `raw`) as scan.json beside a valid error.npy.
void write_scan(const test::TempDir& dir, const json& doc, const std::string& raw = "") {
  write_npy_float64(dir.file("error.npy"), {1, 2, 3, 4, 5, 6}, {2, 3});
  test::write_text(dir.file("scan.json"), raw.empty() ? doc.dump() : raw);
}

// The message read_scan() refuses the folder with ("" if it reads it).
std::string refusal(const test::TempDir& dir) {
  try {
    read_scan(dir.path().string());
    return "";
  } catch (const FormatError& e) {
    return e.what();
  }
}

TEST(ScanFolder, ReadsWhatMolearnScanWrites) {
  test::TempDir dir;
  write_scan(dir, scan_json());
  const ScanData scan = read_scan(dir.path().string());
  EXPECT_EQ(scan.checkpoint, "/abs/run/best.ckpt");
  EXPECT_EQ(scan.latent_dim, 2);
  EXPECT_EQ(scan.plane, "null");
  EXPECT_TRUE(scan.grid.plane.is_whole_space());
  EXPECT_EQ(scan.grid.x, (std::vector<double>{-1, 0, 1}));
  EXPECT_EQ(scan.grid.y, (std::vector<double>{0, 2}));
  ASSERT_EQ(scan.landscapes.size(), 1u);
  EXPECT_EQ(scan.find("error")->unit, "A");
  EXPECT_EQ(scan.find("error")->values, (std::vector<double>{1, 2, 3, 4, 5, 6}));
  EXPECT_EQ(scan.encoded_train, (std::vector<std::pair<double, double>>{{0.5, 1.5}, {-0.5, 0.25}}));
  EXPECT_EQ(scan.encoded_valid, (std::vector<std::pair<double, double>>{{0.0, 1.0}}));

  // A plane of a 3-D latent space; whole numbers written as floats are integers too.
  json doc = scan_json();
  doc["latent_dim"] = 3.0;
  doc["plane"] = {{"dims", {2, 0.0}}, {"origin", {0.5, -1.0, 2.0}}};
  write_scan(dir, doc);
  const ScanData planar = read_scan(dir.path().string());
  EXPECT_EQ(planar.latent_dim, 3);
  EXPECT_EQ(planar.grid.plane.dims[0], 2u);
  EXPECT_EQ(planar.grid.plane.dims[1], 0u);
  EXPECT_EQ(planar.grid.plane.origin, (std::vector<double>{0.5, -1.0, 2.0}));
  EXPECT_EQ(planar.plane, R"({"dims":[2,0],"origin":[0.5,-1.0,2.0]})");
}

// Found by fuzzing (regressions/scan/encoded_point_of_one_value.json): an
// encoded point of one value was read at [1], beyond its end.
TEST(ScanFolder, RefusesEncodedPointsThatAreNotTwoNumbers) {
  test::TempDir dir;
  for (const json& train : {json::parse("[[-0.4]]"), json::parse("[[0, 1], [1, 2, 3]]"), json::parse(R"([["a", 1]])"),
                            json::parse("[[]]"), json::parse(R"({"a": [0, 1]})")}) {
    json doc = scan_json();
    doc["encoded"]["train"] = train;
    write_scan(dir, doc);
    EXPECT_NE(refusal(dir).find("'encoded.train'"), std::string::npos) << train.dump() << ": " << refusal(dir);
  }
  json doc = scan_json();
  doc["encoded"] = {0, 1};
  write_scan(dir, doc);
  EXPECT_NE(refusal(dir).find("'encoded'"), std::string::npos) << refusal(dir);
}

// Found by fuzzing (regressions/scan/latent_dim_1e30.json,
// plane_dims_negative_float.json): latent_dim and the plane's dims were
// converted from any number, and a float beyond the integer's range is
// undefined behaviour.
TEST(ScanFolder, RefusesIntegersOutOfRangeOrNotWhole) {
  test::TempDir dir;
  for (const char* latent_dim : {"1e30", "-1e30", "0", "-2", "2.5", "1e10", "\"2\""}) {
    json doc = scan_json();
    doc["latent_dim"] = json::parse(latent_dim);
    write_scan(dir, doc);
    EXPECT_NE(refusal(dir), "") << latent_dim;
  }
  for (const char* dims : {"[-1.5, 0]", "[1e30, 0]", "[0, -1]", "[0, 3]", "[0.5, 1]", "[1, 1]"}) {
    json doc = scan_json();
    doc["latent_dim"] = 3;
    doc["plane"] = {{"dims", json::parse(dims)}, {"origin", {0, 0, 0}}};
    write_scan(dir, doc);
    const std::string message = refusal(dir);
    EXPECT_NE(message.find("'plane"), std::string::npos) << dims << ": " << message;
  }
}

// Found while reviewing the reader for its fuzz target: the plane was
// copied and dump()ed, both recursive, so a plane nested a million lists
// deep overflowed the stack. Too large to store as a regression input.
TEST(ScanFolder, DeeplyNestedValuesAreRefusedWithoutRecursion) {
  test::TempDir dir;
  const std::string deep = std::string(1000000, '[') + std::string(1000000, ']');
  std::string text = scan_json().dump();
  for (const std::string key : {"\"plane\":", "\"train\":"}) {
    const std::size_t at = text.find(key) + key.size();
    const std::string end = key == "\"plane\":" ? "null" : "[[0.5,1.5],[-0.5,0.25]]";
    ASSERT_EQ(text.compare(at, end.size(), end), 0) << text;
    write_scan(dir, json(), text.substr(0, at) + deep + text.substr(at + end.size()));
    EXPECT_NE(refusal(dir), "") << key;
  }
}

}  // namespace
}  // namespace molearn
