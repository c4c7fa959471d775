#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <fstream>
#include <iterator>
#include <random>

#include "molearn/core/error.hpp"
#include "molearn/data/dataset_file.hpp"
#include "molearn/data/geometry.hpp"
#include "molearn/data/npy.hpp"
#include "molearn/data/polymer.hpp"
#include "molearn/data/prepare.hpp"
#include "molearn/data/selection.hpp"
#include "molearn/io/dcd_writer.hpp"
#include "molearn/io/pdb_writer.hpp"
#include "molearn/io/residue_names.hpp"
#include "test_support.hpp"

using namespace molearn;

namespace {

Atom make_atom(const std::string& name, const std::string& res, int seq, const std::string& chain = "A",
               bool hetero = false) {
  Atom a;
  a.name = name;
  a.res_name = res;
  a.res_seq = seq;
  a.chain = chain;
  a.element = name.substr(0, 1);
  a.hetero = hetero;
  return a;
}

// A small peptide: GLY-ALA-SER with hydrogens on ALA, and a water.
Topology peptide() {
  return Topology({make_atom("N", "GLY", 1), make_atom("CA", "GLY", 1), make_atom("C", "GLY", 1),
                   make_atom("O", "GLY", 1), make_atom("N", "HIS", 2), make_atom("H", "HIS", 2),
                   make_atom("CA", "HIS", 2), make_atom("CB", "HIS", 2), make_atom("C", "HIS", 2),
                   make_atom("O", "HIS", 2), make_atom("N", "SER", 3), make_atom("CA", "SER", 3),
                   make_atom("CB", "SER", 3), make_atom("C", "SER", 3), make_atom("OT1", "SER", 3),
                   make_atom("OT2", "SER", 3), make_atom("O", "HOH", 100, "A", true)});
}

}  // namespace

TEST(Selection, DefaultNamesSkipGlycineCbAndWater) {
  Topology t = peptide();
  rename_terminal_oxygens(t);
  const auto picked = select_atoms(t, SelectionSpec{});
  // GLY: N CA C O; HIS: N CA CB C O; SER: N CA CB C O(from OT1). Water O is not protein.
  EXPECT_EQ(picked.size(), 14u);
  EXPECT_EQ(t.atom(picked.back()).name, "O");
  EXPECT_EQ(t.atom(picked.back()).res_name, "SER");
}

TEST(Selection, TerminalOxygensOfGromacsAndCharmmBecomeOAndOxt) {
  Topology t({make_atom("C", "PHE", 35), make_atom("OC1", "PHE", 35), make_atom("OC2", "PHE", 35),
              make_atom("OCT1", "LEU", 36), make_atom("OCT2", "LEU", 36), make_atom("OT2", "ALA", 37)});
  rename_terminal_oxygens(t);
  EXPECT_EQ(t.atom(1).name, "O");
  EXPECT_EQ(t.atom(2).name, "OXT");
  EXPECT_EQ(t.atom(3).name, "O");
  EXPECT_EQ(t.atom(4).name, "OXT");
  EXPECT_EQ(t.atom(5).name, "OXT");
}

TEST(Selection, KeywordsAndResidueRanges) {
  const Topology t = peptide();
  EXPECT_EQ(select_atoms(t, {"heavy", "", false}).size(), 15u);
  EXPECT_EQ(select_atoms(t, {"protein", "", false}).size(), 16u);
  EXPECT_EQ(select_atoms(t, {"protein", "", true}).size(), 15u);
  EXPECT_EQ(select_atoms(t, {"all", "", false}).size(), 17u);
  EXPECT_EQ(select_atoms(t, {"backbone", "2-3", false}).size(), 7u);  // SER has OT1, not O
  EXPECT_EQ(select_atoms(t, {"CA", "A:1,3", false}).size(), 2u);
}

TEST(Selection, EmptyOrMalformedSelectionsThrow) {
  const Topology t = peptide();
  EXPECT_THROW(select_atoms(t, {"ZZ", "", false}), SelectionError);
  EXPECT_THROW(select_atoms(t, {"CA", "7-9", false}), SelectionError);
  EXPECT_THROW(select_atoms(t, {"CA", "x-3", false}), SelectionError);
  EXPECT_THROW(select_atoms(t, {"CA", "5-2", false}), SelectionError);
}

TEST(Selection, HistidineAliasesBecomeHie) {
  Topology t = peptide();
  canonicalise_residue_names(t);
  EXPECT_EQ(t.atom(4).res_name, "HIE");
  EXPECT_EQ(t.atom(0).res_name, "GLY");
  // CHARMM's spellings keep their protonation: HSD is HID, as the force-field
  // template matcher reads it, HSE is HIE, HSP is HIP.
  EXPECT_EQ(canonical_residue_name("HSD"), "HID");
  EXPECT_EQ(canonical_residue_name("HSE"), "HIE");
  EXPECT_EQ(canonical_residue_name("HSP"), "HIP");
}

TEST(Geometry, SuperposeRecoversARotation) {
  std::mt19937 rng(3);
  std::normal_distribution<float> normal(0, 5);
  std::vector<float> reference(3 * 50);
  for (float& x : reference) x = normal(rng);
  // Rotate by 40 degrees about z and translate.
  const double c = std::cos(0.7), s = std::sin(0.7);
  std::vector<float> mobile(reference.size());
  for (std::size_t i = 0; i < 50; ++i) {
    const double x = reference[3 * i], y = reference[3 * i + 1], z = reference[3 * i + 2];
    mobile[3 * i] = static_cast<float>(c * x - s * y + 3);
    mobile[3 * i + 1] = static_cast<float>(s * x + c * y - 2);
    mobile[3 * i + 2] = static_cast<float>(z + 7);
  }
  EXPECT_GT(rmsd(mobile, reference), 1.0);
  EXPECT_LT(superpose(mobile, reference), 1e-4);
  for (std::size_t k = 0; k < mobile.size(); ++k) EXPECT_NEAR(mobile[k], reference[k], 1e-4);
}

TEST(Geometry, SuperposeNeverReflects) {
  // A mirror image cannot be superposed exactly by a rotation.
  std::vector<float> reference = {1, 0, 0, 0, 2, 0, 0, 0, 3, -1, -1, -1};
  std::vector<float> mirror = reference;
  for (std::size_t i = 0; i < 4; ++i) mirror[3 * i + 2] = -mirror[3 * i + 2];
  EXPECT_GT(superpose(mirror, reference), 0.1);
}

TEST(Polymer, ChainBreakByDistanceNotByTer) {
  // Three residues: 1-2 bonded (C-N 1.33 A), 2-3 far apart (a missing loop).
  Topology t({make_atom("N", "ALA", 1), make_atom("C", "ALA", 1), make_atom("N", "ALA", 2), make_atom("C", "ALA", 2),
              make_atom("N", "ALA", 3), make_atom("C", "ALA", 3), make_atom("O", "HOH", 9, "A", true)});
  std::vector<float> xyz = {0, 0, 0, 1.5f, 0, 0, 2.83f, 0, 0, 4.3f, 0, 0, 12, 0, 0, 13.5f, 0, 0, 30, 0, 0};
  const auto termini = find_termini(t, xyz);
  ASSERT_EQ(termini.size(), 4u);
  EXPECT_TRUE(termini[0].n_terminal);
  EXPECT_FALSE(termini[0].c_terminal);
  EXPECT_TRUE(termini[1].c_terminal);
  EXPECT_TRUE(termini[2].n_terminal);
  EXPECT_TRUE(termini[2].c_terminal);
  EXPECT_FALSE(termini[3].n_terminal);  // water
}

namespace {

Dataset small_dataset() {
  Dataset d;
  d.topology = peptide();
  d.termini = std::vector<ResidueTermini>(d.topology.residue_count());
  d.termini[0].n_terminal = true;
  d.frame_count = 3;
  d.coords.resize(3 * d.topology.atom_count() * 3);
  for (std::size_t i = 0; i < d.coords.size(); ++i) d.coords[i] = static_cast<float>(std::sin(i * 0.37));
  d.mean = 0.25;
  d.std = 7.5;
  d.train_indices = {0, 2};
  d.valid_indices = {1};
  d.sources = {"a.dcd"};
  d.topology_source = "top.pdb";
  d.origins = {{0, 0}, {0, 5}, {0, 10}};
  d.settings = {{"atoms", "all"}};
  return d;
}

std::string read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

}  // namespace

TEST(DatasetFile, RoundTrip) {
  test::TempDir dir;
  const Dataset d = small_dataset();
  write_dataset(d, dir.file("d.mlds"));
  const Dataset r = read_dataset(dir.file("d.mlds"));
  EXPECT_EQ(r.frame_count, 3u);
  EXPECT_EQ(r.atom_count(), d.atom_count());
  EXPECT_EQ(r.coords, d.coords);
  EXPECT_DOUBLE_EQ(r.std, 7.5);
  EXPECT_EQ(r.valid_indices, d.valid_indices);
  EXPECT_EQ(r.origins[2].frame, 10u);
  EXPECT_TRUE(r.termini[0].n_terminal);
  EXPECT_EQ(r.topology.atom(16).res_name, "HOH");
  EXPECT_TRUE(r.topology.atom(16).hetero);
  const auto angstrom = r.frame_in_angstrom(1);
  EXPECT_NEAR(angstrom[0], d.coords[d.atom_count() * 3] * 7.5 + 0.25, 1e-5);
}

TEST(DatasetFile, RejectsWrongMagicVersionTruncationAndCorruption) {
  test::TempDir dir;
  write_dataset(small_dataset(), dir.file("good.mlds"));
  const std::string bytes = read_bytes(dir.file("good.mlds"));
  auto expect_error = [&](const std::string& name, std::string content, const std::string& fragment) {
    test::write_text(dir.file(name), content);
    try {
      read_dataset(dir.file(name));
      ADD_FAILURE() << name << ": expected FormatError";
    } catch (const FormatError& e) {
      EXPECT_NE(std::string(e.what()).find(name), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find(fragment), std::string::npos) << e.what();
    }
  };
  std::string wrong_magic = bytes;
  wrong_magic[1] = 'X';
  expect_error("magic.mlds", wrong_magic, "wrong magic");
  std::string wrong_version = bytes;
  wrong_version[8] = 9;
  expect_error("version.mlds", wrong_version, "version 9");
  expect_error("truncated.mlds", bytes.substr(0, bytes.size() - 10), "truncated");
  std::string flipped = bytes;
  flipped[flipped.size() - 5] ^= 0x40;
  expect_error("flipped.mlds", flipped, "checksum");
  expect_error("tiny.mlds", "MLDS", "too short");
}

// Found with the fuzz target (tests/fuzz): a missing checksum escaped as a JSON
// library exception; header numbers of the wrong kind (1e30 where an index
// belongs) were converted to integers by nlohmann's get<>(), undefined
// behaviour; and with 0 atoms the file size did not bound the frame count.
TEST(DatasetFile, RejectsHeaderNumbersOfTheWrongKind) {
  test::TempDir dir;
  write_dataset(small_dataset(), dir.file("good.mlds"));
  const std::string bytes = read_bytes(dir.file("good.mlds"));
  std::uint64_t length = 0;
  std::memcpy(&length, bytes.data() + 16, 8);
  const nlohmann::json good = nlohmann::json::parse(bytes.substr(24, length));
  const std::string payload = bytes.substr((24 + length + 63) / 64 * 64);
  auto expect_error = [&](const std::string& name, const nlohmann::json& header, const std::string& fragment) {
    const std::string text = header.dump();
    const std::uint64_t n = text.size();
    std::string file = bytes.substr(0, 16) + std::string(reinterpret_cast<const char*>(&n), 8) + text;
    file.resize((24 + n + 63) / 64 * 64, '\0');
    test::write_text(dir.file(name), file + (header["atoms"] == 0 ? "" : payload));
    for (bool coordinates : {false, true}) {
      try {
        read_dataset(dir.file(name), coordinates);
        ADD_FAILURE() << name << ": expected FormatError";
      } catch (const FormatError& e) {
        EXPECT_NE(std::string(e.what()).find(name), std::string::npos) << e.what();
        EXPECT_NE(std::string(e.what()).find(fragment), std::string::npos) << e.what();
      }
    }
  };
  nlohmann::json h = good;
  h["split"]["train"] = {0, 1e30};
  expect_error("split_float.mlds", h, "'split.train' must hold integers >= 0, found 1e+30");
  h = good;
  h["split"]["valid"] = {-1};
  expect_error("split_negative.mlds", h, "'split.valid' must hold integers >= 0, found -1");
  h = good;
  h["topology"]["res_seq"][0] = 1e30;
  expect_error("res_seq_float.mlds", h, "'res_seq' must hold integers from -2147483648 to 2147483647");
  h = good;
  h["termini"]["n_terminal_residues"] = {-1.5e300};
  expect_error("termini_float.mlds", h, "'n_terminal_residues' must hold integers >= 0");
  h = good;
  h["origins"]["file"] = {0, 0, 4294967296};
  expect_error("origins_file.mlds", h, "'origins.file' must hold integers from 0 to 4294967295");
  h = good;
  h["data_crc32"] = 1e300;
  expect_error("crc_float.mlds", h, "'data_crc32' must hold integers");
  h = good;
  h.erase("data_crc32");
  expect_error("crc_missing.mlds", h, "data_crc32");
  h = good;
  h["atoms"] = 0;
  h["frames"] = 1000000000000000;
  h["topology"] = topology_to_json(Topology());
  h["termini"] = {{"n_terminal_residues", nlohmann::json::array()}, {"c_terminal_residues", nlohmann::json::array()}};
  expect_error("atoms_zero.mlds", h, "'atoms' is 0");
}

TEST(DatasetFile, UnwritableFolderIsAnOutputError) {
  EXPECT_THROW(write_dataset(small_dataset(), "/nonexistent-folder/d.mlds"), OutputError);
}

TEST(Npy, HeaderIsAlignedAndDescribesShape) {
  test::TempDir dir;
  const std::vector<float> values = {1, 2, 3, 4, 5, 6};
  write_npy(dir.file("a.npy"), values.data(), {1, 2, 3});
  const std::string bytes = read_bytes(dir.file("a.npy"));
  ASSERT_EQ(bytes.substr(0, 6), "\x93NUMPY");
  const std::size_t header_length = static_cast<unsigned char>(bytes[8]) | (static_cast<unsigned char>(bytes[9]) << 8);
  EXPECT_EQ((10 + header_length) % 64, 0u);
  EXPECT_NE(bytes.find("'shape': (1, 2, 3)"), std::string::npos);
  EXPECT_EQ(bytes.size(), 10 + header_length + 6 * sizeof(float));
}

TEST(Split, SeededAndFloorOfFraction) {
  Dataset d;
  d.frame_count = 16;
  split_dataset(d, 0.1, 42);
  EXPECT_EQ(d.valid_indices.size(), 1u);  // floor(1.6), as Python molearn
  EXPECT_EQ(d.train_indices.size(), 15u);
  Dataset again;
  again.frame_count = 16;
  split_dataset(again, 0.1, 42);
  EXPECT_EQ(again.valid_indices, d.valid_indices);
  Dataset other;
  other.frame_count = 1000;
  split_dataset(other, 0.25, 1);
  EXPECT_EQ(other.valid_indices.size(), 250u);
  std::vector<bool> seen(1000, false);
  for (auto i : other.train_indices) seen[i] = true;
  for (auto i : other.valid_indices) {
    EXPECT_FALSE(seen[i]);
    seen[i] = true;
  }
  EXPECT_EQ(std::count(seen.begin(), seen.end(), true), 1000);
}

TEST(Split, SmallEnsemblesKeepOneValidationFrame) {
  Dataset three;
  three.frame_count = 3;
  split_dataset(three, 0.1, 1);  // floor(0.3) would leave none
  EXPECT_EQ(three.valid_indices.size(), 1u);
  EXPECT_EQ(three.train_indices.size(), 2u);
  Dataset none;
  none.frame_count = 3;
  split_dataset(none, 0.0, 1);  // asked for none
  EXPECT_TRUE(none.valid_indices.empty());
  Dataset one;
  one.frame_count = 1;
  split_dataset(one, 0.5, 1);  // a single frame trains
  EXPECT_EQ(one.train_indices.size(), 1u);
}

TEST(Prepare, CentresScalesAndAligns) {
  test::TempDir dir;
  // Four frames of the peptide: the same shape rotated and shifted.
  Topology t = peptide();
  std::vector<float> base(t.atom_count() * 3);
  std::mt19937 rng(5);
  std::normal_distribution<float> normal(0, 3);
  for (float& x : base) x = normal(rng);
  {
    PdbWriter writer(dir.file("frames.pdb"), t);
    for (int f = 0; f < 4; ++f) {
      Frame frame;
      const double angle = 0.3 * f, c = std::cos(angle), s = std::sin(angle);
      for (std::size_t i = 0; i < t.atom_count(); ++i) {
        frame.xyz.push_back(static_cast<float>(c * base[3 * i] - s * base[3 * i + 1] + 10 * f));
        frame.xyz.push_back(static_cast<float>(s * base[3 * i] + c * base[3 * i + 1]));
        frame.xyz.push_back(base[3 * i + 2]);
      }
      writer.write(frame);
    }
    writer.close();
  }
  PrepareOptions options;
  options.inputs = {dir.file("frames.pdb")};
  options.selection.atoms = "heavy";
  options.align = true;
  options.valid_fraction = 0.25;
  const Dataset d = prepare_dataset(options);
  EXPECT_EQ(d.frame_count, 4u);
  EXPECT_EQ(d.atom_count(), 15u);
  EXPECT_EQ(d.valid_indices.size(), 1u);
  EXPECT_EQ(d.topology.atom(4).res_name, "HIE");
  EXPECT_EQ(d.topology.atom(13).name, "O");    // OT1 renamed
  EXPECT_EQ(d.topology.atom(14).name, "OXT");  // OT2 renamed
  // Aligned: every frame equals the first (up to PDB rounding).
  const auto first = d.frame_in_angstrom(0);
  for (std::size_t f = 1; f < 4; ++f) EXPECT_LT(rmsd(d.frame_in_angstrom(f), first), 2e-3);
  // Scaled: zero mean and unit std overall.
  double sum = 0, squares = 0;
  for (float x : d.coords) sum += x, squares += x * x;
  EXPECT_NEAR(sum / d.coords.size(), 0.0, 1e-5);
  EXPECT_NEAR(squares / d.coords.size(), 1.0, 1e-4);
  EXPECT_TRUE(d.termini.front().n_terminal);
}

TEST(Prepare, CoordinatesBeyondAPhysicalBoundAreRefused) {
  test::TempDir dir;
  const Topology t = peptide();
  {
    PdbWriter writer(dir.file("top.pdb"), t);
    Frame frame;
    for (std::size_t i = 0; i < t.atom_count() * 3; ++i) frame.xyz.push_back(static_cast<float>(i % 7));
    writer.write(frame);
    writer.close();
  }
  // Frame 2 of the DCD holds `value` in atom 8's y (CB of HIS 2); a shift of
  // 5e4 A in frame 1 is far, but physical.
  // The writer refuses coordinates beyond the bound too, so the value is
  // patched into the file's bytes over a unique placeholder.
  const auto write_dcd = [&](float value) {
    constexpr float kPlaceholder = 4321.5f;
    {
      DcdWriter writer(dir.file("frames.dcd"), t.atom_count());
      for (int f = 0; f < 4; ++f) {
        Frame frame;
        for (std::size_t i = 0; i < t.atom_count() * 3; ++i)
          frame.xyz.push_back(static_cast<float>(i % 7 + f) + (f == 1 ? 5e4f : 0.0f));
        if (f == 2) frame.xyz[7 * 3 + 1] = kPlaceholder;
        writer.write(frame);
      }
      writer.close();
    }
    std::ifstream in(dir.file("frames.dcd"), std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    in.close();
    const std::string placeholder(reinterpret_cast<const char*>(&kPlaceholder), 4);
    const std::size_t at = bytes.find(placeholder);
    ASSERT_NE(at, std::string::npos);
    ASSERT_EQ(bytes.find(placeholder, at + 1), std::string::npos);
    std::memcpy(&bytes[at], &value, 4);
    std::ofstream(dir.file("frames.dcd"), std::ios::binary | std::ios::trunc) << bytes;
  };
  PrepareOptions options;
  options.inputs = {dir.file("frames.dcd")};
  options.topology = dir.file("top.pdb");
  options.selection.atoms = "heavy";
  for (const float bad : {1e30f, -2e5f, 3e38f}) {
    write_dcd(bad);
    try {
      prepare_dataset(options);
      ADD_FAILURE() << "accepted the coordinate " << bad;
    } catch (const FormatError& e) {
      const std::string message = e.what();
      EXPECT_NE(message.find("frames.dcd: frame 2 (0-based): atom 8 (CB of HIS 2, chain A)"), std::string::npos)
          << message;
      EXPECT_NE(message.find("1e5"), std::string::npos) << message;
    }
  }
  write_dcd(9.5e4f);
  const Dataset d = prepare_dataset(options);
  EXPECT_EQ(d.frame_count, 4u);
  EXPECT_LT(d.std, 1e5);
}

TEST(Prepare, StrideAndMaxFrames) {
  const auto path = test::shared_data_dir() / "murd" / "MurD_test.pdb";
  MOLEARN_REQUIRE_FILE(path);
  PrepareOptions options;
  options.inputs = {path.string()};
  options.stride = 3;
  EXPECT_EQ(prepare_dataset(options).frame_count, 6u);  // frames 0,3,...,15
  options.stride = 1;
  options.max_frames = 5;
  const Dataset d = prepare_dataset(options);
  ASSERT_EQ(d.frame_count, 5u);
  EXPECT_EQ(d.origins.back().frame, 15u);
  EXPECT_EQ(d.origins[2].frame, 8u);
}

TEST(Prepare, MurdDcdGives16FramesOf2145Atoms) {
  const auto dcd = test::shared_data_dir() / "murd" / "MurD_test.dcd";
  const auto top = test::shared_data_dir() / "murd" / "MurD_test_topo.pdb";
  MOLEARN_REQUIRE_FILE(dcd);
  PrepareOptions options;
  options.inputs = {dcd.string()};
  options.topology = top.string();
  const Dataset d = prepare_dataset(options);
  EXPECT_EQ(d.frame_count, 16u);
  EXPECT_EQ(d.atom_count(), 2145u);
  EXPECT_EQ(d.topology.residue_count(), 437u);
  EXPECT_EQ(d.train_indices.size() + d.valid_indices.size(), 16u);
  EXPECT_GT(d.std, 5.0);
}

TEST(Prepare, TopologyMismatchAndMissingTopology) {
  const auto dcd = test::shared_data_dir() / "murd" / "MurD_test.dcd";
  MOLEARN_REQUIRE_FILE(dcd);
  test::TempDir dir;
  test::write_text(dir.file("small.pdb"),
                   "ATOM      1  CA  ALA A   1       0.000   0.000   0.000  1.00  0.00           C\n");
  PrepareOptions options;
  options.inputs = {dcd.string()};
  options.topology = dir.file("small.pdb");
  options.selection.atoms = "CA";
  try {
    prepare_dataset(options);
    FAIL() << "expected FormatError";
  } catch (const FormatError& e) {
    EXPECT_NE(std::string(e.what()).find("3286 atoms"), std::string::npos) << e.what();
  }
  options.topology.clear();
  EXPECT_THROW(prepare_dataset(options), InputError);
}

TEST(Polymer, TerminiFromChainIdentifiers) {
  // Chain A: residues 1-2; chain B: residue 3; then a water. The coordinates
  // are not looked at, so stretched bonds do not split a chain.
  Topology t({make_atom("N", "ALA", 1), make_atom("C", "ALA", 1), make_atom("N", "ALA", 2), make_atom("C", "ALA", 2),
              make_atom("N", "GLY", 3, "B"), make_atom("C", "GLY", 3, "B"), make_atom("O", "HOH", 9, "B", true)});
  const auto termini = termini_from_chains(t);
  ASSERT_EQ(termini.size(), 4u);
  EXPECT_TRUE(termini[0].n_terminal);
  EXPECT_FALSE(termini[0].c_terminal);
  EXPECT_FALSE(termini[1].n_terminal);
  EXPECT_TRUE(termini[1].c_terminal);
  EXPECT_TRUE(termini[2].n_terminal && termini[2].c_terminal);
  EXPECT_FALSE(termini[3].n_terminal || termini[3].c_terminal);
}
