// Access to OpenMM's platforms. OpenMM's C++ library finds its CPU platform
// only after its plugins are loaded, which Python does implicitly and C++
// programs must do themselves, once.
#pragma once

#include <string>

namespace OpenMM {
class Platform;
}

namespace molearn {

// Loads OpenMM's plugins (once per process) and returns the named platform
// ("CPU" or "Reference"). Throws InputError for an unknown or unavailable one.
OpenMM::Platform& openmm_platform(const std::string& name);

}  // namespace molearn
