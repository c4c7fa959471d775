// Where the front-end files (plotly.js and NGL from npm, the GUI's page) are
// found: the build tree's share folder, the installed one, or a folder the
// user names in $MOLEARN_WEB_DIR. Nothing is ever fetched from the network.
#pragma once

#include <string>

namespace molearn {

// The path of web asset `name` (e.g. "plotly.min.js") in the first folder
// that has it. Throws InputError naming the file, every place looked at and
// how to install it.
std::string find_web_asset(const std::string& name);

}  // namespace molearn
