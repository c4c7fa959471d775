#include <gtest/gtest.h>

#include <algorithm>

#include "molearn/analysis/conformers.hpp"
#include "molearn/analysis/structure_matching_to_topology.hpp"
#include "molearn/core/error.hpp"
#include "molearn/io/pdb_writer.hpp"
#include "test_support.hpp"

namespace molearn {
namespace {

const std::string kDemoTop = (test::source_dir() / "examples/data/2mi7_heavy_topology.pdb").string();
const std::string kDemoDcd = (test::source_dir() / "examples/data/2mi7_heavy.dcd").string();

// Writes `c`'s frame `k` with its atoms in reverse order and chain `chain`.
std::string write_reversed(const test::TempDir& dir, const Conformers& c, std::size_t k, const std::string& chain,
                           std::size_t drop_atom = SIZE_MAX) {
  std::vector<std::size_t> order;
  for (std::size_t i = c.atom_count(); i-- > 0;)
    if (i != drop_atom) order.push_back(i);
  Topology t = c.topology.subset(order);
  for (Atom& a : t.atoms()) a.chain = chain;
  Frame f;
  for (std::size_t i : order) f.xyz.insert(f.xyz.end(), &c.frame(k)[3 * i], &c.frame(k)[3 * i] + 3);
  const std::string path = dir.file("reversed.pdb");
  PdbWriter w(path, t);
  w.write(f);
  w.close();
  return path;
}

TEST(CoordinatesInTopologyOrder, MatchesAtomsWhateverTheirOrderAndChainName) {
  const Conformers c = read_conformers(kDemoDcd, kDemoTop);
  test::TempDir dir;
  const std::string path = write_reversed(dir, c, 5, "Z");  // another chain name: matched by chain order
  const std::vector<float> xyz = coordinates_in_topology_order(c.topology, path);
  ASSERT_EQ(xyz.size(), c.frame(5).size());
  for (std::size_t i = 0; i < xyz.size(); ++i) ASSERT_NEAR(xyz[i], c.frame(5)[i], 1e-3) << i;
  // A PDB has its own topology: a topology file meant for trajectories is ignored.
  EXPECT_EQ(coordinates_in_topology_order(c.topology, path, kDemoTop), xyz);
}

TEST(CoordinatesInTopologyOrder, ReadsTheAskedFrameOfATrajectory) {
  const Conformers c = read_conformers(kDemoDcd, kDemoTop);
  const std::vector<float> xyz = coordinates_in_topology_order(c.topology, kDemoDcd, kDemoTop, 31);
  for (std::size_t i = 0; i < xyz.size(); ++i) ASSERT_EQ(xyz[i], c.frame(31)[i]);
  try {
    coordinates_in_topology_order(c.topology, kDemoDcd, kDemoTop, 32);
    FAIL() << "frame 32 of 32 accepted";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("2mi7_heavy.dcd: frame 32"), std::string::npos) << e.what();
  }
}

TEST(CoordinatesInTopologyOrder, NamesTheFileAndTheAtomsItLacks) {
  const Conformers c = read_conformers(kDemoDcd, kDemoTop);
  test::TempDir dir;
  const std::string path = write_reversed(dir, c, 0, "A", 8);  // atom 8: CB of SER 2
  try {
    coordinates_in_topology_order(c.topology, path);
    FAIL() << "a file without SER 2 CB accepted";
  } catch (const InputError& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find("reversed.pdb"), std::string::npos) << m;
    EXPECT_NE(m.find("lacks 1 of the"), std::string::npos) << m;
    EXPECT_NE(m.find("A:SER 2 CB"), std::string::npos) << m;
  }
}

}  // namespace
}  // namespace molearn
