// The CRC-32 check of every stored record of a zip archive, the container of
// molearn's checkpoints (PyTorch's format). libtorch's archive reader does not
// check them (its miniz is built without CRC checks), so train/checkpoint.cpp
// calls this before handing a file to libtorch. No torch: a hand-written
// reader of the end-of-central-directory, zip64 records, central directory
// and local headers.
#pragma once

#include <string>

namespace molearn {

// Checks the CRC-32 of every stored (uncompressed) record of the zip archive
// at `path`; compressed records are left to the archive reader. Throws
// InputError (a folder, unreadable) or FormatError naming the file (not a zip
// archive, directory or records out of place, a record cut short, overlapping
// others or not matching its checksum).
void verify_record_checksums(const std::string& path);

}  // namespace molearn
