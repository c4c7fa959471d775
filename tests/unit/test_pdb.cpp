#include <gtest/gtest.h>

#include "molearn/core/error.hpp"
#include "molearn/io/pdb_reader.hpp"
#include "molearn/io/pdb_writer.hpp"
#include "molearn/io/trajectory_reader.hpp"
#include "test_support.hpp"

using namespace molearn;

namespace {

std::string atom_line(const char* record, int serial, const char* name, char altloc, const char* res, char chain,
                      int seq, char icode, double x, double y, double z, const char* element = " C") {
  char buf[96];
  std::snprintf(buf, sizeof buf, "%-6s%5d %-4s%c%3s %c%4d%c   %8.3f%8.3f%8.3f  1.00  0.00          %s\n", record,
                serial, name, altloc, res, chain, seq, icode, x, y, z, element);
  return buf;
}

// Two residues, written as a model with a given x offset.
std::string two_residue_model(double dx) {
  return atom_line("ATOM", 1, " N", ' ', "ALA", 'A', 1, ' ', 0 + dx, 0, 0, " N") +
         atom_line("ATOM", 2, " CA", ' ', "ALA", 'A', 1, ' ', 1.4 + dx, 0, 0) +
         atom_line("ATOM", 3, " C", ' ', "ALA", 'A', 1, ' ', 2.0 + dx, 1.2, 0) +
         atom_line("ATOM", 4, " N", ' ', "GLY", 'A', 2, ' ', 3.2 + dx, 1.4, 0, " N") +
         atom_line("ATOM", 5, " CA", ' ', "GLY", 'A', 2, ' ', 3.9 + dx, 2.6, 0);
}

std::vector<Frame> read_all(TrajectoryReader& reader) {
  std::vector<Frame> frames;
  Frame f;
  while (reader.read(f)) frames.push_back(f);
  return frames;
}

}  // namespace

TEST(PdbReader, ReadsModelRecords) {
  test::TempDir dir;
  const auto path = dir.file("models.pdb");
  test::write_text(path, "MODEL        1\n" + two_residue_model(0) + "ENDMDL\nMODEL        2\n" +
                             two_residue_model(10) + "ENDMDL\nEND\n");
  PdbReader reader(path);
  EXPECT_EQ(reader.atom_count(), 5u);
  EXPECT_EQ(reader.topology().residue_count(), 2u);
  auto frames = read_all(reader);
  ASSERT_EQ(frames.size(), 2u);
  EXPECT_FLOAT_EQ(frames[1].xyz[0], 10.0f);
  EXPECT_FLOAT_EQ(frames[1].xyz[3 * 4 + 1], 2.6f);
  EXPECT_EQ(reader.topology().atom(3).res_name, "GLY");
  EXPECT_EQ(reader.topology().atom(0).element, "N");
}

TEST(PdbReader, ReadsStructuresSeparatedByEnd) {
  test::TempDir dir;
  const auto path = dir.file("end_separated.pdb");
  test::write_text(path, "CRYST1    1.000    1.000    1.000  90.00  90.00  90.00 P 1           1\n" +
                             two_residue_model(0) + "TER\nEND\n" + two_residue_model(5) + "TER\nEND\n" +
                             two_residue_model(7) + "END\n");
  PdbReader reader(path);
  auto frames = read_all(reader);
  ASSERT_EQ(frames.size(), 3u);
  EXPECT_FLOAT_EQ(frames[2].xyz[0], 7.0f);
  EXPECT_FALSE(frames[0].cell.has_value());  // CRYST1 1 1 1 means "no cell"
}

TEST(PdbReader, KeepsFirstAlternateLocationAndInsertionCodes) {
  test::TempDir dir;
  const auto path = dir.file("altloc.pdb");
  test::write_text(path, atom_line("ATOM", 1, " N", ' ', "SER", 'A', 5, ' ', 0, 0, 0, " N") +
                             atom_line("ATOM", 2, " CA", 'A', "SER", 'A', 5, ' ', 1, 0, 0) +
                             atom_line("ATOM", 3, " CA", 'B', "SER", 'A', 5, ' ', 9, 9, 9) +
                             atom_line("ATOM", 4, " N", ' ', "SER", 'A', 5, 'A', 2, 0, 0, " N") +
                             atom_line("HETATM", 5, " O", ' ', "HOH", 'A', 101, ' ', 5, 5, 5, " O"));
  PdbReader reader(path);
  ASSERT_EQ(reader.atom_count(), 4u);
  EXPECT_EQ(reader.topology().residue_count(), 3u);  // 5, 5A, HOH
  EXPECT_EQ(reader.topology().atom(2).ins_code, 'A');
  EXPECT_TRUE(reader.topology().atom(3).hetero);
  Frame f;
  ASSERT_TRUE(reader.read(f));
  EXPECT_FLOAT_EQ(f.xyz[3], 1.0f);  // altloc A kept, B dropped
}

TEST(PdbReader, ModelsWithDifferentAtomsNameTheModel) {
  test::TempDir dir;
  const auto path = dir.file("bad_models.pdb");
  const std::string short_model = atom_line("ATOM", 1, " N", ' ', "ALA", 'A', 1, ' ', 0, 0, 0, " N");
  test::write_text(path, "MODEL 1\n" + two_residue_model(0) + "ENDMDL\nMODEL 2\n" + short_model + "ENDMDL\n");
  PdbReader reader(path);
  Frame f;
  ASSERT_TRUE(reader.read(f));
  try {
    reader.read(f);
    FAIL() << "expected FormatError";
  } catch (const FormatError& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find("bad_models.pdb"), std::string::npos) << message;
    EXPECT_NE(message.find("model 2"), std::string::npos) << message;
    EXPECT_NE(message.find("has 1 atoms"), std::string::npos) << message;
  }
}

TEST(PdbReader, BadCoordinateNamesTheLine) {
  test::TempDir dir;
  const auto path = dir.file("nan.pdb");
  std::string text = two_residue_model(0);
  const auto second_line = text.find('\n') + 1;
  text.replace(second_line + 30, 8, "     nan");
  test::write_text(path, text);
  try {
    PdbReader reader(path);
    FAIL() << "expected FormatError";
  } catch (const FormatError& e) {
    EXPECT_NE(std::string(e.what()).find("line 2"), std::string::npos) << e.what();
  }
}

TEST(PdbReader, MissingFileAndEmptyFile) {
  test::TempDir dir;
  EXPECT_THROW(PdbReader(dir.file("absent.pdb")), InputError);
  test::write_text(dir.file("empty.pdb"), "REMARK nothing here\nEND\n");
  EXPECT_THROW(PdbReader(dir.file("empty.pdb")), FormatError);
}

TEST(PdbWriter, RoundTripsThroughReader) {
  test::TempDir dir;
  const auto source = dir.file("in.pdb");
  test::write_text(source, two_residue_model(0) + "END\n" + two_residue_model(-3.25) + "END\n");
  PdbReader reader(source);
  auto frames = read_all(reader);
  const auto out = dir.file("out.pdb");
  {
    PdbWriter writer(out, reader.topology());
    for (const auto& f : frames) writer.write(f);
    EXPECT_FALSE(std::filesystem::exists(out));  // only visible once closed
    writer.close();
  }
  PdbReader again(out);
  auto copies = read_all(again);
  ASSERT_EQ(copies.size(), 2u);
  for (std::size_t m = 0; m < 2; ++m)
    for (std::size_t k = 0; k < frames[m].xyz.size(); ++k) EXPECT_NEAR(copies[m].xyz[k], frames[m].xyz[k], 5e-4);
  for (std::size_t i = 0; i < reader.atom_count(); ++i) {
    EXPECT_EQ(again.topology().atom(i).name, reader.topology().atom(i).name);
    EXPECT_EQ(again.topology().atom(i).element, reader.topology().atom(i).element);
  }
}

TEST(PdbWriter, UnclosedWriterLeavesNothing) {
  test::TempDir dir;
  const auto out = dir.file("never.pdb");
  {
    PdbWriter writer(out, Topology({Atom{"CA", "ALA", 1, ' ', "A", "C", false, 1}}));
    writer.write(Frame{{1, 2, 3}, {}, 0, 0});
  }
  EXPECT_TRUE(std::filesystem::is_empty(dir.path()));
}

TEST(PdbWriter, RejectsCoordinatesThatDoNotFit) {
  test::TempDir dir;
  PdbWriter writer(dir.file("big.pdb"), Topology({Atom{"CA", "ALA", 1, ' ', "A", "C", false, 1}}));
  EXPECT_THROW(writer.write(Frame{{1e5f, 0, 0}, {}, 0, 0}), OutputError);
}

// Found by fuzzing: gemmi 0.5 parses integers without an overflow check
// (undefined behaviour). Categories molearn does not use are no longer handed
// to gemmi, and an _atom_site number beyond int's range is refused.
TEST(MmcifReader, IntegersBeyondIntAreRefusedInAtomsAndIgnoredElsewhere) {
  const auto regressions = test::source_dir() / "tests/fuzz/regressions/mmcif";
  try {
    open_trajectory((regressions / "seq_id_overflow.cif").string());
    ADD_FAILURE() << "an auth_seq_id of 20 digits was accepted";
  } catch (const FormatError& e) {
    EXPECT_NE(
        std::string(e.what()).find("seq_id_overflow.cif: _atom_site.auth_seq_id '11111111111111111111' is beyond"),
        std::string::npos)
        << e.what();
  }
  // Within int but beyond +-(2^23 - 1): gemmi orders residues by num * 256.
  try {
    open_trajectory((regressions / "seq_id_times_256_overflow.cif").string());
    ADD_FAILURE() << "an auth_seq_id of 111111111 was accepted";
  } catch (const FormatError& e) {
    EXPECT_NE(std::string(e.what()).find("_atom_site.auth_seq_id '111111111' is beyond the range of residue numbers "
                                         "(+-8388607)"),
              std::string::npos)
        << e.what();
  }
  // A helix length of 99999999999 in _struct_conf does not matter to molearn.
  auto reader = open_trajectory((regressions / "struct_conf_overflow.cif").string());
  EXPECT_EQ(reader->atom_count(), 2u);
  EXPECT_EQ(read_all(*reader).size(), 1u);
}

TEST(TrajectoryFormat, FromExtension) {
  EXPECT_EQ(format_from_path("a/b.PDB"), TrajectoryFormat::Pdb);
  EXPECT_EQ(format_from_path("x.cif.gz"), TrajectoryFormat::Mmcif);
  EXPECT_EQ(format_from_path("x.dcd"), TrajectoryFormat::Dcd);
  EXPECT_EQ(format_from_path("x.xtc"), TrajectoryFormat::Xtc);
  EXPECT_THROW(format_from_path("x.trr"), InputError);
}

TEST(ElementFromName, FollowsPdbAlignment) {
  EXPECT_EQ(element_from_atom_name(" CA ", "ALA"), "C");
  EXPECT_EQ(element_from_atom_name("CA  ", "CA"), "CA");
  EXPECT_EQ(element_from_atom_name("1HB ", "ALA"), "H");
  EXPECT_EQ(element_from_atom_name("FE  ", "HEM"), "FE");
  EXPECT_EQ(element_from_atom_name(" OXT", "GLY"), "O");
}
