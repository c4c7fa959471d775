// Reading OpenMM force-field XML: the hand-written toy force field, OpenMM's
// own files, and broken files (errors must name the file and line).
#include <gtest/gtest.h>

#include "molearn/core/error.hpp"
#include "molearn/physics/forcefield_reader.hpp"
#include "physics_test_support.hpp"

namespace molearn {
namespace {

using test::TempDir;
using test::write_text;

std::string error_of(const std::vector<std::string>& files) {
  try {
    read_forcefield(files);
  } catch (const FormatError& e) {
    return e.what();
  }
  return "(no FormatError)";
}

TEST(ForceFieldReader, ParsesTypesTemplatesAndForces) {
  TempDir dir;
  const ForceField ff = test::toy_forcefield(dir);
  ASSERT_EQ(ff.types.size(), 7u);
  EXPECT_EQ(ff.types[ff.find_type("tCB")].element, "C");
  EXPECT_EQ(ff.classes[ff.types[ff.find_type("tCA")].atom_class], "CT");
  EXPECT_EQ(ff.types[ff.find_type("tCA")].atom_class, ff.types[ff.find_type("tCB")].atom_class);
  EXPECT_DOUBLE_EQ(ff.types[ff.find_type("tO")].mass, 16.0);

  const ResidueTemplate* ala = ff.find_template("ALA");
  ASSERT_NE(ala, nullptr);
  EXPECT_EQ(ala->atoms.size(), 6u);
  EXPECT_DOUBLE_EQ(*ala->atoms[ala->find_atom("C")].charge, 0.6);
  EXPECT_EQ(ala->bonds.size(), 5u);
  EXPECT_EQ(ala->external_bonds, (std::vector<int>{ala->find_atom("N"), ala->find_atom("C")}));
  // The from/to index form of bonds.
  const ResidueTemplate* nala = ff.find_template("NALA");
  ASSERT_NE(nala, nullptr);
  EXPECT_EQ(nala->bonds[3], (std::array<int, 2>{0, 4}));
  EXPECT_EQ(nala->external_bonds, std::vector<int>{6});

  ASSERT_EQ(ff.bonds.size(), 7u);
  EXPECT_EQ(ff.bonds[0].atoms[0].kind, TypeFilter::Kind::Class);
  EXPECT_DOUBLE_EQ(ff.bonds[0].length, 0.101);
  EXPECT_DOUBLE_EQ(ff.bonds[0].k, 363171.2);
  ASSERT_EQ(ff.angles.size(), 4u);
  EXPECT_EQ(ff.angles[0].atoms[1].kind, TypeFilter::Kind::Type);
  EXPECT_EQ(ff.angles[1].atoms[0].kind, TypeFilter::Kind::Any);
  ASSERT_EQ(ff.propers.size(), 5u);
  EXPECT_TRUE(ff.propers[0].has_wildcard());
  EXPECT_FALSE(ff.propers[1].has_wildcard());
  ASSERT_EQ(ff.propers[1].terms.size(), 2u);
  EXPECT_EQ(ff.propers[1].terms[1].periodicity, 1);
  EXPECT_DOUBLE_EQ(ff.propers[1].terms[1].k, 0.5);
  ASSERT_EQ(ff.impropers.size(), 2u);
  EXPECT_EQ(ff.impropers[0].ordering, ImproperOrdering::Amber);

  EXPECT_TRUE(ff.nonbonded.present);
  EXPECT_TRUE(ff.nonbonded.charge_from_residue);
  EXPECT_NEAR(ff.nonbonded.coulomb14_scale, 1 / 1.2, 1e-12);
  EXPECT_DOUBLE_EQ(ff.nonbonded.lj14_scale, 0.5);
  // <Atom class="CT"> gives both types of the class their parameters.
  EXPECT_DOUBLE_EQ(ff.nonbonded.by_type[ff.find_type("tCB")]->sigma, 0.339967);
  EXPECT_FALSE(ff.nonbonded.by_type[ff.find_type("tCA")]->charge.has_value());
}

TEST(ForceFieldReader, ImproperOrderingDefaultsToOpenMMs) {
  TempDir dir;
  EXPECT_EQ(test::toy_forcefield(dir, "").impropers[0].ordering, ImproperOrdering::Default);
  EXPECT_EQ(test::toy_forcefield(dir, "charmm").impropers[0].ordering, ImproperOrdering::Charmm);
}

TEST(ForceFieldReader, ReadsOpenMMsAmberFiles) {
  const ForceField ff = read_forcefield(kDefaultForceField);
  EXPECT_GT(ff.types.size(), 30u);
  for (const char* name : {"ALA", "NALA", "CALA", "HIE", "HID", "HIP", "CYX", "ACE", "NME"})
    EXPECT_NE(ff.find_template(name), nullptr) << name;
  EXPECT_EQ(ff.impropers.front().ordering, ImproperOrdering::Amber);
  EXPECT_FALSE(ff.implicit_obc2);

  // <Include>: amber14-all.xml pulls in protein, DNA, RNA and lipids.
  const ForceField all = read_forcefield({"amber14-all.xml"});
  EXPECT_EQ(all.files.size(), 5u);
  EXPECT_NE(all.find_template("DA5"), nullptr);
  EXPECT_NE(all.find_template("NALA"), nullptr);

  // implicit/obc2.xml holds only a Python script, recognised as OBC2.
  EXPECT_TRUE(read_forcefield({"amber14/protein.ff14SB.xml", "implicit/obc2.xml"}).implicit_obc2);
  // Older files carry per-type OBC parameters.
  const ForceField obc = read_forcefield({"amber99sbildn.xml", "amber99_obc.xml"});
  EXPECT_TRUE(obc.obc.present);
}

TEST(ForceFieldReader, MissingFileIsAnInputError) {
  EXPECT_THROW(read_forcefield({"no/such/forcefield.xml"}), InputError);
  EXPECT_THROW(read_forcefield({}), InputError);
}

TEST(ForceFieldReader, InvalidXmlNamesFileAndLine) {
  TempDir dir;
  const std::string path = dir.file("broken.xml");
  write_text(path, "<ForceField>\n <AtomTypes>\n  <Type name=\"a\" class=\"b\" mass=\"1\">\n </AtomTypes>\n");
  const std::string message = error_of({path});
  EXPECT_NE(message.find(path), std::string::npos) << message;
  EXPECT_NE(message.find("line"), std::string::npos) << message;
  EXPECT_NE(message.find("invalid XML"), std::string::npos) << message;
}

TEST(ForceFieldReader, MissingAttributesAndSectionsAreFormatErrors) {
  TempDir dir;
  const std::string no_mass = dir.file("no_mass.xml");
  write_text(no_mass, "<ForceField>\n <AtomTypes>\n  <Type name=\"a\" class=\"b\"/>\n </AtomTypes>\n</ForceField>\n");
  std::string message = error_of({no_mass});
  EXPECT_NE(message.find("no_mass.xml, line 3"), std::string::npos) << message;
  EXPECT_NE(message.find("'mass'"), std::string::npos) << message;

  const std::string empty = dir.file("empty.xml");
  write_text(empty, "<ForceField>\n</ForceField>\n");
  message = error_of({empty});
  EXPECT_NE(message.find("empty.xml"), std::string::npos) << message;
  EXPECT_NE(message.find("<AtomTypes>"), std::string::npos) << message;

  const std::string not_ff = dir.file("other.xml");
  write_text(not_ff, "<Residues/>\n");
  EXPECT_NE(error_of({not_ff}).find("not an OpenMM force field"), std::string::npos);

  const std::string bad_number = dir.file("bad_number.xml");
  write_text(bad_number,
             "<ForceField>\n <AtomTypes>\n  <Type name=\"a\" class=\"b\" mass=\"1.0x\"/>\n"
             " </AtomTypes>\n</ForceField>\n");
  EXPECT_NE(error_of({bad_number}).find("is not a number"), std::string::npos);
}

TEST(ForceFieldReader, InconsistentContentIsRefused) {
  TempDir dir;
  const std::string types =
      "<ForceField>\n <AtomTypes>\n  <Type name=\"a\" class=\"b\" element=\"C\" mass=\"12\"/>\n"
      " </AtomTypes>\n";
  const std::string unknown_type = dir.file("unknown_type.xml");
  write_text(unknown_type, types +
                               " <Residues>\n  <Residue name=\"X\">\n   <Atom name=\"C1\" type=\"zz\"/>\n"
                               "  </Residue>\n </Residues>\n</ForceField>\n");
  std::string message = error_of({unknown_type});
  EXPECT_NE(message.find("unknown_type.xml, line 7"), std::string::npos) << message;
  EXPECT_NE(message.find("unknown atom type 'zz'"), std::string::npos) << message;

  const std::string unsupported = dir.file("cmap.xml");
  write_text(unsupported, types + " <CMAPTorsionForce/>\n</ForceField>\n");
  EXPECT_NE(error_of({unsupported}).find("<CMAPTorsionForce> is not supported"), std::string::npos);

  const std::string script = dir.file("script.xml");
  write_text(script, types + " <Script>print('hello')</Script>\n</ForceField>\n");
  EXPECT_NE(error_of({script}).find("<Script>"), std::string::npos);

  // The same template twice, same override level.
  const std::string twice = dir.file("twice.xml");
  const std::string residue = "  <Residue name=\"X\"><Atom name=\"C1\" type=\"a\"/></Residue>\n";
  write_text(twice, types + " <Residues>\n" + residue + residue + " </Residues>\n</ForceField>\n");
  EXPECT_NE(error_of({twice}).find("already defined"), std::string::npos);
}

TEST(ForceFieldReader, LaterFilesAddToEarlierOnes) {
  TempDir dir;
  const std::string base = dir.file("base.xml");
  write_text(base, test::toy_forcefield_xml());
  // A second file: a new type, a template overriding ALA, more parameters,
  // and a definition naming a type nobody defines (skipped, as OpenMM does).
  const std::string extra = dir.file("extra.xml");
  write_text(extra, R"(<ForceField>
 <AtomTypes><Type name="tS" class="S" element="S" mass="32.06"/></AtomTypes>
 <Residues>
  <Residue name="ALA" override="1"><Atom name="S" type="tS" charge="0"/></Residue>
 </Residues>
 <HarmonicBondForce>
  <Bond class1="S" class2="S" length="0.2038" k="138908.8"/>
  <Bond type1="nobody" type2="tS" length="0.2" k="1"/>
 </HarmonicBondForce>
 <NonbondedForce coulomb14scale="0.8333333333333334" lj14scale="0.5">
  <UseAttributeFromResidue name="charge"/>
  <Atom type="tS" sigma="0.356" epsilon="1.046"/>
 </NonbondedForce>
</ForceField>
)");
  const ForceField ff = read_forcefield({base, extra});
  EXPECT_EQ(ff.types.size(), 8u);
  EXPECT_EQ(ff.bonds.size(), 8u);
  EXPECT_EQ(ff.find_template("ALA")->atoms.size(), 1u);
  EXPECT_TRUE(ff.nonbonded.by_type[ff.find_type("tS")].has_value());

  const std::string other_scales = dir.file("scales.xml");
  write_text(other_scales,
             "<ForceField>\n <NonbondedForce coulomb14scale=\"0.5\" lj14scale=\"0.5\"/>\n</ForceField>\n");
  EXPECT_NE(error_of({base, other_scales}).find("1-4 scales"), std::string::npos);
}

// Found with the fuzz target: files were told apart by the spelling of their path, so
// a file including itself as "./self.xml" (or two including each other through
// "sub/../") was read again and again until the path grew too long, which
// escaped as a std::filesystem_error, as did an include name too long.
TEST(ForceFieldReader, IncludesAreReadOnceWhateverTheirSpelling) {
  TempDir dir;
  const std::string self = dir.file("self.xml");
  write_text(self, "<ForceField>\n <Include file=\"./self.xml\"/>\n" + test::toy_forcefield_xml().substr(12));
  EXPECT_EQ(read_forcefield({self}).files.size(), 1u);

  std::filesystem::create_directories(dir.path() / "sub");
  const std::string top = dir.file("top.xml"), sub = dir.file("sub/sub.xml");
  write_text(top, "<ForceField>\n <Include file=\"sub/sub.xml\"/>\n" + test::toy_forcefield_xml().substr(12));
  write_text(sub, "<ForceField>\n <Include file=\"../top.xml\"/>\n</ForceField>\n");
  EXPECT_EQ(read_forcefield({top}).files.size(), 2u);

  const std::string long_name = dir.file("long.xml");
  write_text(long_name, "<ForceField>\n <Include file=\"" + std::string(5000, 'x') + "\"/>\n</ForceField>\n");
  EXPECT_NE(error_of({long_name}).find("long.xml, line 2: included file"), std::string::npos);
  EXPECT_THROW(read_forcefield({std::string(5000, 'x')}), InputError);
}

}  // namespace
}  // namespace molearn
