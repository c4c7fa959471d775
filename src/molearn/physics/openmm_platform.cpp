#include "molearn/physics/openmm_platform.hpp"

#include <OpenMM.h>

#include <mutex>

#include "molearn/core/error.hpp"

namespace molearn {

OpenMM::Platform& openmm_platform(const std::string& name) {
  static std::once_flag loaded;
  std::call_once(loaded, [] {
    // Plugins that fail to load (e.g. Amoeba/Drude without their
    // dependencies) are harmless: only CPU and Reference are used.
    OpenMM::Platform::loadPluginsFromDirectory(OpenMM::Platform::getDefaultPluginsDirectory());
  });
  try {
    return OpenMM::Platform::getPlatformByName(name);
  } catch (const OpenMM::OpenMMException&) {
    std::string available;
    for (int i = 0; i < OpenMM::Platform::getNumPlatforms(); ++i)
      available += (available.empty() ? "" : ", ") + OpenMM::Platform::getPlatform(i).getName();
    throw InputError("OpenMM platform '" + name + "' is not available (available: " + available + ")");
  }
}

std::string resolve_platform_name(const std::string& name, const OpenMM::System& system) {
  if (name != "auto") return name;
  for (int i = 0; i < system.getNumForces(); ++i) {
    const OpenMM::Force& force = system.getForce(i);
    if (dynamic_cast<const OpenMM::GBSAOBCForce*>(&force) || dynamic_cast<const OpenMM::CustomGBForce*>(&force))
      return "CPU";
    if (const auto* nb = dynamic_cast<const OpenMM::NonbondedForce*>(&force);
        nb && nb->getNonbondedMethod() != OpenMM::NonbondedForce::NoCutoff)
      return "CPU";
  }
  return "Reference";
}

}  // namespace molearn
