#include "molearn/analysis/web_assets.hpp"

#include <cstdlib>
#include <filesystem>
#include <vector>

#include "molearn/core/error.hpp"

namespace molearn {

std::string find_web_asset(const std::string& name) {
  namespace fs = std::filesystem;
  std::vector<fs::path> places = {fs::path(MOLEARN_BUILD_SHARE_DIR) / "web", fs::path(MOLEARN_SHARE_DIR) / "web"};
  if (const char* env = std::getenv("MOLEARN_WEB_DIR"); env && *env) places.emplace_back(env);
  std::string looked;
  for (const auto& dir : places) {
    const auto file = dir / name;
    std::error_code ec;
    if (fs::is_regular_file(file, ec)) return file.string();
    looked += "\n  " + file.string();
  }
  throw InputError(name +
                   " (a front-end file of molearn, installed from npm or web/gui) was not found; looked at:" + looked +
                   "\nrun scripts/install-deps.sh (npm ci --prefix web) and rebuild, or set MOLEARN_WEB_DIR to the "
                   "folder holding it");
}

}  // namespace molearn
