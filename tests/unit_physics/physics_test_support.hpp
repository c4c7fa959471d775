// Helpers of the physics unit tests: a small hand-written force field, toy
// peptides, and OpenMM's villin headpiece (test.pdb in its data folder).
#pragma once

#include <gtest/gtest.h>

#include <array>
#include <filesystem>
#include <string>
#include <vector>

#include "molearn/io/topology.hpp"
#include "molearn/io/trajectory_reader.hpp"
#include "molearn/physics/forcefield_reader.hpp"
#include "test_support.hpp"

namespace molearn::test {

// A force field small enough to check by hand. Classes N, H, CT, C, O, O2;
// CA and CB share class CT but not type. Propers: a wildcard definition, a
// specific one later in the file (which must win), a second wildcard (never
// used) and one with k = 0 (left out). Impropers use `ordering`.
inline std::string toy_forcefield_xml(const std::string& ordering = "amber") {
  const std::string ordering_attribute = ordering.empty() ? "" : " ordering=\"" + ordering + "\"";
  return R"(<ForceField>
 <AtomTypes>
  <Type name="tN" class="N" element="N" mass="14.01"/>
  <Type name="tH" class="H" element="H" mass="1.008"/>
  <Type name="tCA" class="CT" element="C" mass="12.01"/>
  <Type name="tCB" class="CT" element="C" mass="12.01"/>
  <Type name="tC" class="C" element="C" mass="12.01"/>
  <Type name="tO" class="O" element="O" mass="16.00"/>
  <Type name="tO2" class="O2" element="O" mass="16.00"/>
 </AtomTypes>
 <Residues>
  <Residue name="ALA">
   <Atom name="N" type="tN" charge="-0.4"/>
   <Atom name="H" type="tH" charge="0.3"/>
   <Atom name="CA" type="tCA" charge="0.1"/>
   <Atom name="CB" type="tCB" charge="-0.1"/>
   <Atom name="C" type="tC" charge="0.6"/>
   <Atom name="O" type="tO" charge="-0.5"/>
   <Bond atomName1="N" atomName2="H"/>
   <Bond atomName1="N" atomName2="CA"/>
   <Bond atomName1="CA" atomName2="CB"/>
   <Bond atomName1="CA" atomName2="C"/>
   <Bond atomName1="C" atomName2="O"/>
   <ExternalBond atomName="N"/>
   <ExternalBond atomName="C"/>
  </Residue>
  <Residue name="NALA">
   <Atom name="N" type="tN" charge="0.1"/>
   <Atom name="H1" type="tH" charge="0.2"/>
   <Atom name="H2" type="tH" charge="0.2"/>
   <Atom name="H3" type="tH" charge="0.2"/>
   <Atom name="CA" type="tCA" charge="0.1"/>
   <Atom name="CB" type="tCB" charge="-0.1"/>
   <Atom name="C" type="tC" charge="0.6"/>
   <Atom name="O" type="tO" charge="-0.5"/>
   <Bond from="0" to="1"/>
   <Bond from="0" to="2"/>
   <Bond from="0" to="3"/>
   <Bond from="0" to="4"/>
   <Bond from="4" to="5"/>
   <Bond from="4" to="6"/>
   <Bond from="6" to="7"/>
   <ExternalBond from="6"/>
  </Residue>
  <Residue name="CALA">
   <Atom name="N" type="tN" charge="-0.4"/>
   <Atom name="H" type="tH" charge="0.3"/>
   <Atom name="CA" type="tCA" charge="0.1"/>
   <Atom name="CB" type="tCB" charge="-0.1"/>
   <Atom name="C" type="tC" charge="0.7"/>
   <Atom name="O" type="tO2" charge="-0.8"/>
   <Atom name="OXT" type="tO2" charge="-0.8"/>
   <Bond atomName1="N" atomName2="H"/>
   <Bond atomName1="N" atomName2="CA"/>
   <Bond atomName1="CA" atomName2="CB"/>
   <Bond atomName1="CA" atomName2="C"/>
   <Bond atomName1="C" atomName2="O"/>
   <Bond atomName1="C" atomName2="OXT"/>
   <ExternalBond atomName="N"/>
  </Residue>
 </Residues>
 <HarmonicBondForce>
  <Bond class1="N" class2="H" length="0.101" k="363171.2"/>
  <Bond class1="N" class2="CT" length="0.1449" k="282001.6"/>
  <Bond class1="CT" class2="CT" length="0.1526" k="259408.0"/>
  <Bond class1="CT" class2="C" length="0.1522" k="265265.6"/>
  <Bond class1="C" class2="O" length="0.1229" k="476976.0"/>
  <Bond class1="C" class2="O2" length="0.125" k="548940.8"/>
  <Bond class1="C" class2="N" length="0.1335" k="410032.0"/>
 </HarmonicBondForce>
 <HarmonicAngleForce>
  <Angle type1="tN" type2="tCA" type3="tC" angle="1.9146" k="527.184"/>
  <Angle class1="" class2="CT" class3="" angle="1.911" k="418.4"/>
  <Angle class1="" class2="N" class3="" angle="2.0944" k="292.88"/>
  <Angle class1="" class2="C" class3="" angle="2.0944" k="669.44"/>
 </HarmonicAngleForce>
 <PeriodicTorsionForce)" +
         ordering_attribute + R"(>
  <Proper class1="" class2="CT" class3="C" class4="" periodicity1="2" phase1="0.0" k1="1.0"/>
  <Proper class1="N" class2="CT" class3="C" class4="O" periodicity1="3" phase1="0.0" k1="2.0"
          periodicity2="1" phase2="3.141592653589793" k2="0.5"/>
  <Proper class1="" class2="CT" class3="C" class4="" periodicity1="2" phase1="0.0" k1="3.0"/>
  <Proper class1="" class2="N" class3="CT" class4="" periodicity1="3" phase1="0.0" k1="0.0"/>
  <Proper class1="" class2="C" class3="N" class4="" periodicity1="2" phase1="3.141592653589793" k1="10.46"/>
  <Improper class1="C" class2="" class3="O2" class4="O2" periodicity1="2" phase1="3.141592653589793" k1="43.932"/>
  <Improper class1="N" class2="" class3="" class4="H" periodicity1="2" phase1="3.141592653589793" k1="4.184"/>
 </PeriodicTorsionForce>
 <NonbondedForce coulomb14scale="0.8333333333333334" lj14scale="0.5">
  <UseAttributeFromResidue name="charge"/>
  <Atom type="tN" sigma="0.325" epsilon="0.71128"/>
  <Atom type="tH" sigma="0.107" epsilon="0.0656888"/>
  <Atom class="CT" sigma="0.339967" epsilon="0.45773"/>
  <Atom type="tC" sigma="0.339967" epsilon="0.359824"/>
  <Atom type="tO" sigma="0.295992" epsilon="0.87864"/>
  <Atom type="tO2" sigma="0.295992" epsilon="0.87864"/>
 </NonbondedForce>
</ForceField>
)";
}

inline ForceField toy_forcefield(const TempDir& dir, const std::string& ordering = "amber") {
  const std::string path = dir.file("toy_" + ordering + ".xml");
  write_text(path, toy_forcefield_xml(ordering));
  return read_forcefield({path});
}

// A toy structure: atoms with names, residues and positions (Å).
struct ToyStructure {
  std::vector<Atom> atoms;
  std::vector<float> xyz;

  // Adds a residue; its atoms go along x, 0.5 Å apart, continuing from the
  // last atom (so a residue's C lies within 2 Å of the next N), shifted by
  // `gap` Å to make a chain break.
  void add(const std::string& res_name, int res_seq, const std::vector<std::string>& names, float gap = 0,
           const std::string& chain = "A") {
    for (const auto& name : names) {
      Atom a;
      a.name = name;
      a.res_name = res_name;
      a.res_seq = res_seq;
      a.chain = chain;
      a.element = element_from_atom_name(name, res_name);
      atoms.push_back(a);
      const float x = xyz.empty() ? 0.0f : xyz[xyz.size() - 3] + 0.5f;
      xyz.insert(xyz.end(), {x + gap, 0.1f * static_cast<float>(atoms.size() % 3), 0.0f});
      gap = 0;
    }
  }
  Topology topology() const { return Topology(atoms); }
};

inline const std::vector<std::string> kBackbone5 = {"N", "CA", "CB", "C", "O"};

// OpenMM's villin headpiece with hydrogens, water and two Cl- (test.pdb).
inline std::string villin_path() { return (std::filesystem::path(forcefield_data_dir()) / "test.pdb").string(); }

struct Structure {
  Topology topology;
  std::vector<float> xyz;
};

inline Structure read_structure(const std::string& path) {
  Structure s;
  s.topology = read_topology(path);
  Frame frame;
  open_trajectory(path, &s.topology)->read(frame);
  s.xyz = frame.xyz;
  return s;
}

}  // namespace molearn::test
