// Access to OpenMM's platforms. OpenMM's C++ library finds its CPU platform
// only after its plugins are loaded, which Python does implicitly and C++
// programs must do themselves, once.
#pragma once

#include <string>

namespace OpenMM {
class Platform;
class System;
}  // namespace OpenMM

namespace molearn {

// Loads OpenMM's plugins (once per process) and returns the named platform
// ("CPU" or "Reference"). Throws InputError for an unknown or unavailable one.
OpenMM::Platform& openmm_platform(const std::string& name);

// "auto" becomes the platform measured fastest for this kind of System
// (docs/physics.md): OpenMM 7.7's CPU platform pays off only for Coulomb and
// Lennard-Jones with a cutoff (its vectorised neighbour-list kernel) and for
// generalised Born; for the soft core (a CustomNonbondedForce, with or
// without cutoff) and NoCutoff Coulomb/LJ the Reference platform is as fast
// or faster per structure and scales better when several Contexts run at
// once. Other names pass through.
std::string resolve_platform_name(const std::string& name, const OpenMM::System& system);

}  // namespace molearn
