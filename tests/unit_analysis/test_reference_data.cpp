#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>

#include "molearn/analysis/reference_data.hpp"
#include "molearn/core/error.hpp"
#include "test_support.hpp"

namespace molearn {
namespace {

// Sets an environment variable for one test and restores it afterwards.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const std::string& value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old, had_ = true;
    setenv(name, value.c_str(), 1);
  }
  ~ScopedEnv() { had_ ? setenv(name_, old_.c_str(), 1) : unsetenv(name_); }

 private:
  const char* name_;
  std::string old_;
  bool had_ = false;
};

void make_file(const test::TempDir& dir, const std::string& relative) {
  std::filesystem::create_directories((dir.path() / relative).parent_path());
  test::write_text(dir.file(relative), "x\n");
}

TEST(FindReferenceFile, DataDirOptionComesBeforeTheEnvironment) {
  test::TempDir option, env;
  make_file(option, "tables/a.data");
  make_file(env, "tables/a.data");
  ScopedEnv e("MOLEARN_DATA", env.path().string());
  EXPECT_EQ(std::filesystem::path(find_reference_file("tables/a.data", option.path().string(), "test table")),
            option.path() / "tables/a.data");
  EXPECT_EQ(std::filesystem::path(find_reference_file("tables/a.data", "", "test table")),
            env.path() / "tables/a.data");
}

TEST(FindReferenceFile, FallsThroughFoldersThatLackTheFile) {
  test::TempDir option, env;
  make_file(env, "tables/b.data");
  ScopedEnv e("MOLEARN_DATA", env.path().string());
  EXPECT_EQ(std::filesystem::path(find_reference_file("tables/b.data", option.path().string(), "test table")),
            env.path() / "tables/b.data");
}

TEST(FindReferenceFile, MissingFileNamesItWhatItIsAndEveryPlaceLooked) {
  test::TempDir option, env;
  ScopedEnv e("MOLEARN_DATA", env.path().string());
  try {
    find_reference_file("nowhere/missing-table.data", option.path().string(), "a table made up for this test");
    FAIL() << "a missing file was found";
  } catch (const InputError& err) {
    const std::string message = err.what();
    EXPECT_NE(message.find("nowhere/missing-table.data"), std::string::npos) << message;
    EXPECT_NE(message.find("a table made up for this test"), std::string::npos) << message;
    EXPECT_NE(message.find(option.path().string()), std::string::npos) << message;
    EXPECT_NE(message.find(env.path().string()), std::string::npos) << message;
    EXPECT_NE(message.find("--data-dir"), std::string::npos) << message;
  }
}

TEST(ReferenceDataFolders, SearchOrderIsOptionEnvironmentBuildInstalledShared) {
  test::TempDir option, env;
  ScopedEnv e("MOLEARN_DATA", env.path().string());
  const auto folders = reference_data_folders(option.path().string());
  ASSERT_GE(folders.size(), 4u);
  EXPECT_EQ(std::filesystem::path(folders[0]), option.path());
  EXPECT_EQ(std::filesystem::path(folders[1]), env.path());
  EXPECT_EQ(folders[2], std::filesystem::path(MOLEARN_BUILD_SHARE_DIR).lexically_normal().string());
  EXPECT_EQ(folders[3], std::filesystem::path(MOLEARN_SHARE_DIR).lexically_normal().string());
  const auto cwd_shared = (std::filesystem::current_path() / ".." / "shared" / "data").lexically_normal().string();
  EXPECT_NE(std::find(folders.begin(), folders.end(), cwd_shared), folders.end());
}

}  // namespace
}  // namespace molearn
