// The table of the architectures' options (models/architecture_options.hpp)
// that train's options, --resume's check and `molearn info` all read: each
// row's key must be the field it points at, and name built-in models.
#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include "molearn/models/architecture_options.hpp"
#include "molearn/models/model_names.hpp"

namespace molearn {
namespace {

TEST(ArchitectureOptions, EachKeyIsTheFieldItPointsAt) {
  for (const ArchitectureOption& a : architecture_options()) {
    ModelConfig config;
    config.atoms = 10;
    // A value no default has, written through the row's field, must show under the row's key.
    double written = 0;
    std::visit(
        [&](auto field) {
          config.*field = static_cast<std::remove_reference_t<decltype(config.*field)>>(77);
          written = static_cast<double>(config.*field);
        },
        a.field);
    const nlohmann::json j = config.to_json();
    ASSERT_TRUE(j.contains(a.key)) << a.key;
    EXPECT_EQ(j.at(a.key).get<double>(), written) << a.key;
    EXPECT_EQ(ModelConfig::from_json(j).to_json().at(a.key), j.at(a.key)) << a.key << " survives a checkpoint";
  }
}

TEST(ArchitectureOptions, RowsNameBuiltInModelsAndUniqueOptions) {
  const std::vector<std::string> models = autoencoder_names();
  std::set<std::string> keys, flags;
  for (const ArchitectureOption& a : architecture_options()) {
    EXPECT_TRUE(keys.insert(a.key).second) << a.key << " twice";
    ASSERT_FALSE(a.architectures.empty()) << a.key;
    for (const auto& name : a.architectures) {
      EXPECT_NE(std::find(models.begin(), models.end(), name), models.end()) << a.key << ": " << name;
      EXPECT_TRUE(a.shapes(name));
    }
    EXPECT_FALSE(a.shapes("no-such-model"));
    if (a.flag.empty()) continue;
    EXPECT_TRUE(flags.insert(a.flag).second) << a.flag << " twice";
    EXPECT_EQ(a.flag.rfind("--", 0), 0u) << a.flag;
    EXPECT_FALSE(a.help.empty()) << a.flag;
    // The default must be an accepted value, or `train` would refuse its own default.
    const double by_default = ModelConfig().to_json().at(a.key).get<double>();
    EXPECT_LT(a.low, a.high) << a.flag;
    EXPECT_GE(by_default, a.low) << a.flag;
    EXPECT_LE(by_default, a.high) << a.flag;
  }
}

}  // namespace
}  // namespace molearn
