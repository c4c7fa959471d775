#include "molearn/analysis/reference_data.hpp"

#include <cstdlib>
#include <filesystem>
#include <system_error>

#include "molearn/core/error.hpp"

namespace molearn {
namespace {

namespace fs = std::filesystem;

// The folder of the running executable, so that a build or an installed
// binary finds ../shared/data beside the project it came from.
fs::path executable_folder() {
  std::error_code ec;
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  return ec ? fs::path() : exe.parent_path();
}

void add_unique(std::vector<std::string>& folders, const fs::path& folder) {
  if (folder.empty()) return;
  const std::string text = folder.lexically_normal().string();
  for (const auto& f : folders)
    if (f == text) return;
  folders.push_back(text);
}

}  // namespace

std::vector<std::string> reference_data_folders(const std::string& data_dir_option) {
  std::vector<std::string> folders;
  if (!data_dir_option.empty()) add_unique(folders, data_dir_option);
  if (const char* env = std::getenv("MOLEARN_DATA"); env && *env) add_unique(folders, env);
#ifdef MOLEARN_BUILD_SHARE_DIR
  add_unique(folders, MOLEARN_BUILD_SHARE_DIR);
#endif
#ifdef MOLEARN_SHARE_DIR
  add_unique(folders, MOLEARN_SHARE_DIR);
#endif
  std::error_code ec;
  const fs::path cwd = fs::current_path(ec);
  if (!ec) add_unique(folders, cwd / ".." / "shared" / "data");
  // build/molearn and build/tests/x both reach the project's sibling folder.
  const fs::path exe = executable_folder();
  if (!exe.empty()) {
    add_unique(folders, exe.parent_path() / ".." / "shared" / "data");
    add_unique(folders, exe.parent_path().parent_path() / ".." / "shared" / "data");
  }
  return folders;
}

std::string find_reference_file(const std::string& relative_path, const std::string& data_dir_option,
                                const std::string& what) {
  const auto folders = reference_data_folders(data_dir_option);
  std::string looked;
  for (const auto& folder : folders) {
    const fs::path candidate = fs::path(folder) / relative_path;
    std::error_code ec;
    if (fs::is_regular_file(candidate, ec)) return candidate.string();
    looked += "\n  " + candidate.string();
  }
  throw InputError(relative_path + " (" + what + "): not found in any of:" + looked +
                   "\ngive the folder holding it with --data-dir or $MOLEARN_DATA");
}

}  // namespace molearn
