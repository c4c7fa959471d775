// read_training_log: the columns only some epochs or runs log (energies from
// the physics start, the bond metric, the Sinkhorn trainer's divergences)
// line up with the epochs, NaN where an epoch has none.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <string>

#include "molearn/analysis/run_analysis_torch.hpp"
#include "molearn/core/error.hpp"

namespace {

// A log file of this process, removed when the test ends however it ends.
class LogFile {
 public:
  LogFile(const std::string& name, const std::string& text)
      : path_((std::filesystem::temp_directory_path() /
               ("molearn-test-" + name + "-" + std::to_string(::getpid()) + ".jsonl"))
                  .string()) {
    std::ofstream(path_) << text;
  }
  ~LogFile() {
    std::error_code ignored;
    std::filesystem::remove(path_, ignored);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

}  // namespace

TEST(TrainingLog, OptionalColumnsLineUpWithTheEpochs) {
  const LogFile file("optional",
                     R"({"epoch":1,"train_loss":0.5,"valid_loss":0.6,"valid_rmsd":2.0}
{"epoch":2,"train_loss":0.4,"valid_loss":0.5,"valid_rmsd":1.8,"train_energy":900,"valid_energy":950}
{"epoch":3,"train_loss":0.3,"train_energy":800,"valid_bond_rmsd":0.2,"valid_stretched_bonds":40}
{"epoch":4,"train_loss":0.2,"valid_loss":0.4,"valid_rmsd":1.5}
)");
  const molearn::TrainingLog log = molearn::read_training_log(file.path());
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
  const LogFile file("wrong-type", R"({"epoch":1,"train_loss":0.5}
{"epoch":2,"train_loss":0.4,"train_energy":"high"}
)");
  try {
    molearn::read_training_log(file.path());
    FAIL() << "a text energy was accepted";
  } catch (const molearn::FormatError& e) {
    EXPECT_NE(std::string(e.what()).find("line 2"), std::string::npos) << e.what();
  }
}
