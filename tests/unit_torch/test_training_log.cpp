// read_training_log: the columns only some epochs or runs log (energies from
// the physics start, the bond metric, the Sinkhorn trainer's divergences)
// line up with the epochs, NaN where an epoch has none.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <string>

#include "molearn/analysis/run_analysis_torch.hpp"
#include "molearn/core/error.hpp"

namespace {

std::string write_log(const std::string& name, const std::string& text) {
  const auto path = std::filesystem::temp_directory_path() / ("molearn-test-" + name + ".jsonl");
  std::ofstream(path) << text;
  return path.string();
}

}  // namespace

TEST(TrainingLog, OptionalColumnsLineUpWithTheEpochs) {
  const std::string path = write_log("optional",
                                     R"({"epoch":1,"train_loss":0.5,"valid_loss":0.6,"valid_rmsd":2.0}
{"epoch":2,"train_loss":0.4,"valid_loss":0.5,"valid_rmsd":1.8,"train_energy":900,"valid_energy":950}
{"epoch":3,"train_loss":0.3,"train_energy":800,"valid_bond_rmsd":0.2,"valid_stretched_bonds":40}
{"epoch":4,"train_loss":0.2,"valid_loss":0.4,"valid_rmsd":1.5}
)");
  const molearn::TrainingLog log = molearn::read_training_log(path);
  std::filesystem::remove(path);
  ASSERT_EQ(log.epoch.size(), 4u);
  ASSERT_EQ(log.train_energy.size(), 4u);
  ASSERT_EQ(log.valid_energy.size(), 4u);
  EXPECT_TRUE(std::isnan(log.train_energy[0]));
  EXPECT_EQ(log.train_energy[1], 900);
  EXPECT_EQ(log.valid_energy[1], 950);
  EXPECT_EQ(log.train_energy[2], 800);
  EXPECT_TRUE(std::isnan(log.valid_energy[2])) << "an epoch without validation frames logs no valid_energy";
  EXPECT_TRUE(std::isnan(log.train_energy[3]));
  ASSERT_EQ(log.valid_bond_rmsd.size(), 4u);
  EXPECT_EQ(log.valid_bond_rmsd[2], 0.2);
  EXPECT_EQ(log.valid_stretched_bonds[2], 40);
  EXPECT_TRUE(std::isnan(log.valid_bond_rmsd[1]));
  EXPECT_TRUE(std::isnan(log.valid_bond_rmsd[3]));
  EXPECT_TRUE(std::isnan(log.valid_rmsd[2]));
  EXPECT_TRUE(log.train_sinkhorn.empty()) << "a run that never logged a column keeps it empty";
  EXPECT_TRUE(log.valid_sinkhorn.empty());
}

TEST(TrainingLog, AColumnOfTheWrongTypeNamesTheLine) {
  const std::string path = write_log("wrong-type", R"({"epoch":1,"train_loss":0.5}
{"epoch":2,"train_loss":0.4,"train_energy":"high"}
)");
  try {
    molearn::read_training_log(path);
    FAIL() << "a text energy was accepted";
  } catch (const molearn::FormatError& e) {
    EXPECT_NE(std::string(e.what()).find("line 2"), std::string::npos) << e.what();
  }
  std::filesystem::remove(path);
}
