// OpenMM's XML serialisation of a System, which any OpenMM (C++ or Python:
// openmm.XmlSerializer.deserialize) reads back.
#pragma once

#include <string>

namespace OpenMM {
class System;
}

namespace molearn {

std::string system_to_xml(const OpenMM::System& system);

// Writes atomically (temporary file + rename). Throws OutputError.
void write_system_xml(const OpenMM::System& system, const std::string& path);

}  // namespace molearn
