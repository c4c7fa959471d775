#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "molearn/core/atomic_file.hpp"
#include "test_support.hpp"

namespace fs = std::filesystem;
using molearn::AtomicFile;
using molearn::test::TempDir;
using molearn::test::write_text;

namespace {

// The id of a process that has ended (a child reaped at once).
pid_t ended_process() {
  const pid_t child = ::fork();
  if (child == 0) ::_exit(0);
  int status = 0;
  ::waitpid(child, &status, 0);
  return child;
}

std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

void age(const std::string& path, std::chrono::minutes by) {
  fs::last_write_time(path, fs::file_time_type::clock::now() - by);
}

}  // namespace

TEST(AtomicFile, CommitRenamesIntoPlaceAndDiscardLeavesNothing) {
  TempDir dir;
  const std::string out = dir.file("out.txt");
  {
    AtomicFile file(out);
    file.stream() << "complete";
    EXPECT_FALSE(fs::exists(out)) << "the final name appears only on commit";
    file.commit();
  }
  EXPECT_EQ(read_text(out), "complete");
  {
    AtomicFile file(out);
    file.stream() << "abandoned";
  }  // destroyed without commit
  EXPECT_EQ(read_text(out), "complete");
  EXPECT_EQ(std::distance(fs::directory_iterator(dir.path()), fs::directory_iterator()), 1);
}

TEST(AtomicFile, RemovesOnlyStaleTemporariesOfItsOwnOutput) {
  TempDir dir;
  const std::string dead = std::to_string(ended_process());
  const std::string alive = std::to_string(::getppid());
  const std::string killed = dir.file("out.txt.tmp." + dead);    // a killed writer's: removed
  const std::string running = dir.file("out.txt.tmp." + alive);  // a live process's: kept
  const std::string recent = dir.file("out.txt.tmp.99999999");   // untouched for less than a minute: kept
  const std::string other = dir.file("other.txt.tmp." + dead);   // another output's: kept
  const std::string not_a_pid = dir.file("out.txt.tmp.backup");  // not NAME.tmp.PID: kept
  for (const auto& path : {killed, running, recent, other, not_a_pid}) write_text(path, "partial");
  for (const auto& path : {killed, running, other, not_a_pid}) age(path, std::chrono::minutes(5));
  ASSERT_NE(::kill(99999999, 0), 0);  // beyond pid_max: no such process
  AtomicFile file(dir.file("out.txt"));
  file.stream() << "new";
  file.commit();
  EXPECT_FALSE(fs::exists(killed));
  EXPECT_TRUE(fs::exists(running));
  EXPECT_TRUE(fs::exists(recent));
  EXPECT_TRUE(fs::exists(other));
  EXPECT_TRUE(fs::exists(not_a_pid));
  EXPECT_EQ(read_text(dir.file("out.txt")), "new");
}

TEST(AtomicFile, RemovesAKilledWritersStagedFoldersButNotLinks) {
  TempDir dir;
  const std::string dead = std::to_string(ended_process());
  const std::string staged = dir.file("r_figures.tmp." + dead);    // a killed report's staged figures
  const std::string previous = dir.file("r_figures.old." + dead);  // the copy it had moved aside
  const std::string target = dir.file("precious");
  const std::string link = dir.file("r_figures.tmp.99999998");  // a link is never followed or removed
  for (const auto& folder : {staged, previous, target}) {
    fs::create_directory(folder);
    write_text(folder + "/loss.png", "partial");
  }
  fs::create_directory_symlink(target, link);
  for (const auto& path : {staged, previous, target}) age(path, std::chrono::minutes(5));
  molearn::remove_stale_temporaries(dir.file("r_figures"));
  EXPECT_FALSE(fs::exists(staged));
  EXPECT_FALSE(fs::exists(previous));
  EXPECT_TRUE(fs::is_symlink(link));
  EXPECT_TRUE(fs::exists(target + "/loss.png"));
}

TEST(AtomicFile, ListsTheTemporariesOfKilledWritersNewestFirst) {
  TempDir dir;
  const std::string older = dir.file("t.dcd.tmp." + std::to_string(ended_process()));
  const std::string newer = dir.file("t.dcd.tmp." + std::to_string(ended_process()));
  const std::string running = dir.file("t.dcd.tmp." + std::to_string(::getppid()));  // a live writer's
  const std::string other = dir.file("u.dcd.tmp." + std::to_string(ended_process()));
  for (const auto& path : {older, newer, running, other}) write_text(path, "frames");
  age(older, std::chrono::minutes(10));
  age(newer, std::chrono::minutes(2));
  EXPECT_EQ(molearn::abandoned_temporaries(dir.file("t.dcd")), (std::vector<std::string>{newer, older}));
  EXPECT_TRUE(molearn::abandoned_temporaries(dir.file("v.dcd")).empty());
}
