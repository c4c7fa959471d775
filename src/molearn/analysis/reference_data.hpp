// Where the reference tables of the metrics (MolProbity's Ramachandran
// contours, the DOPE potential) are found. They are data, not code: they may
// live beside the build, in the installed share folder, or in a shared data
// folder the user points at.
#pragma once

#include <string>
#include <vector>

namespace molearn {

// The folders searched for reference data, in order: `data_dir_option` (the
// user's --data-dir, when not empty), $MOLEARN_DATA, the build tree's share
// folder, the installed share folder, then ../shared/data relative to the
// current directory and to the executable's folder's parent's parent.
std::vector<std::string> reference_data_folders(const std::string& data_dir_option);

// The path of `relative_path` (e.g. "rama8000/rama8000-gly-sym.data") in the
// first of reference_data_folders() that has it. `what` says what the file is
// and where it comes from, for the error: throws InputError naming the file,
// `what`, and every place looked at.
std::string find_reference_file(const std::string& relative_path, const std::string& data_dir_option,
                                const std::string& what);

}  // namespace molearn
