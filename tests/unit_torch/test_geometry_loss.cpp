#include <gtest/gtest.h>

#include "molearn/core/error.hpp"
#include "molearn/data/prepare.hpp"
#include "molearn/physics/forcefield_reader.hpp"
#include "molearn/train/geometry_loss_torch.hpp"
#include "molearn/train/tensor_dataset.hpp"
#include "test_support.hpp"

using namespace molearn;

namespace {

// The shipped NMR ensemble of 2MI7 (67 residues, 9 glycines), N,CA,CB,C,O.
const Dataset& nmr() {
  static const Dataset d = [] {
    PrepareOptions o;
    o.inputs = {(test::source_dir() / "examples/data/2mi7_heavy.dcd").string()};
    o.topology = (test::source_dir() / "examples/data/2mi7_heavy_topology.pdb").string();
    o.max_frames = 4;
    return prepare_dataset(o);
  }();
  return d;
}

const ForceField& amber() {
  static const ForceField ff = read_forcefield(kDefaultForceField);
  return ff;
}

GeometryLossOptions all_terms() {
  GeometryLossOptions o;
  o.bonded_weight = o.local_weight = o.nonlocal_weight = o.dihedral_weight = 1;
  return o;
}

std::map<std::string, double> values(const GeometryLoss& loss, const torch::Tensor& input, const torch::Tensor& out,
                                     double std) {
  std::map<std::string, double> v;
  const torch::Tensor z = torch::zeros({input.size(0), 2});
  for (const auto& [name, weight, term] : loss.terms()) v[name] = term({input, out, z, std}).item<double>();
  return v;
}

}  // namespace

TEST(GeometryLoss, RealStructuresScoreNearZeroAndTheirBondsAreIdeal) {
  const Dataset& d = nmr();
  const GeometryLoss loss(d, all_terms(), &amber(), 1);
  const torch::Tensor x = to_tensors(d).coords;
  const auto v = values(loss, x, x, d.std);
  ASSERT_EQ(v.size(), 4u);
  EXPECT_NEAR(v.at("local_distance"), 0, 1e-10);
  EXPECT_NEAR(v.at("nonlocal_distance"), 0, 1e-10);
  EXPECT_NEAR(v.at("dihedral"), 0, 1e-5);  // float32 rounding of 1 - cos
  // NMR bonds are within about 0.01 Å of Amber's: the bonded term is tiny.
  EXPECT_LT(v.at("bonded") * d.std * d.std, 1e-3);
  ASSERT_TRUE(loss.has_bonds());
  const auto [rms, stretched] = loss.bond_deviation(x);
  EXPECT_LT(rms.max().item<double>(), 0.05);
  EXPECT_EQ(stretched.sum().item<std::int64_t>(), 0);
  // Stretching the whole structure by 10% puts every bond off by more than 0.1 Å.
  const auto [rms_big, stretched_big] = loss.bond_deviation(x * 1.1);
  EXPECT_GT(rms_big.min().item<double>(), 0.1);
  EXPECT_EQ(stretched_big.min().item<std::int64_t>(), static_cast<std::int64_t>(loss.bond_count()));
}

TEST(GeometryLoss, EachTermSeesWhatItShould) {
  const Dataset& d = nmr();
  const GeometryLoss loss(d, all_terms(), &amber(), 1);
  const torch::Tensor x = to_tensors(d).coords;
  // The mirror image keeps every distance but turns 58 residues into D
  // amino acids and flips every dihedral: only the distance terms miss it.
  const torch::Tensor mirror = x * torch::tensor({-1.0f, 1.0f, 1.0f}).reshape({1, 3, 1});
  const auto m = values(loss, x, mirror, d.std);
  EXPECT_NEAR(m.at("local_distance"), 0, 1e-9);
  EXPECT_NEAR(m.at("nonlocal_distance"), 0, 1e-9);
  EXPECT_GT(m.at("bonded") * d.std * d.std, 1.0);  // CB heights 0.8 Å on the wrong side
  EXPECT_GT(m.at("dihedral"), 100 * values(loss, x, x + 0.002 * torch::randn_like(x), d.std).at("dihedral"));
  // Noise: every term grows with it.
  torch::manual_seed(3);
  const auto small = values(loss, x, x + 0.01 * torch::randn_like(x), d.std);
  const auto large = values(loss, x, x + 0.05 * torch::randn_like(x), d.std);
  for (const auto& [name, value] : small) {
    EXPECT_GT(value, 0) << name;
    EXPECT_GT(large.at(name), 4 * value) << name;
  }
}

TEST(GeometryLoss, GradientDescentRepairsBonds) {
  const Dataset& d = nmr();
  GeometryLossOptions o;
  o.local_weight = 1;
  const GeometryLoss loss(d, o, &amber(), 1);
  const torch::Tensor x = to_tensors(d).coords;
  torch::manual_seed(5);
  torch::Tensor y = (x + 0.03 * torch::randn_like(x)).requires_grad_(true);  // ~0.15 Å of noise per coordinate
  const double before = loss.bond_deviation(y.detach()).first.mean().item<double>();
  const auto term = std::get<2>(loss.terms().at(0));
  torch::optim::Adam adam({y}, torch::optim::AdamOptions(1e-3));
  for (int step = 0; step < 200; ++step) {
    adam.zero_grad();
    const torch::Tensor value = term({x, y, torch::zeros({x.size(0), 2}), d.std});
    value.backward();
    ASSERT_TRUE(torch::isfinite(y.grad()).all().item<bool>());
    adam.step();
  }
  const double after = loss.bond_deviation(y.detach()).first.mean().item<double>();
  EXPECT_LT(after, before / 3) << before << " -> " << after;
}

TEST(GeometryLoss, TermsWithNothingToMeasureAreRefused) {
  const Dataset& d = nmr();
  GeometryLossOptions o;
  o.bonded_weight = 1;
  EXPECT_THROW(GeometryLoss(d, o, nullptr, 1), InputError);  // no force field, no ideal bonds
  o = {};
  o.local_weight = 1;
  o.local_k = 0;
  EXPECT_THROW(GeometryLoss(d, o, &amber(), 1), InputError);
  // Only weighted terms are returned, named for the log.
  o.local_k = 4;
  o.dihedral_weight = 2;
  const auto terms = GeometryLoss(d, o, &amber(), 1).terms();
  ASSERT_EQ(terms.size(), 2u);
  EXPECT_EQ(std::get<0>(terms[0]), "local_distance");
  EXPECT_EQ(std::get<0>(terms[1]), "dihedral");
  EXPECT_EQ(std::get<1>(terms[1]), 2.0);
}
