// The names of the architectures make_autoencoder builds, without torch, so
// that the command line can list them.
#pragma once

#include <string>
#include <vector>

namespace molearn {

// Names make_autoencoder accepts: the built-in ones, then the registered ones.
std::vector<std::string> autoencoder_names();

}  // namespace molearn
