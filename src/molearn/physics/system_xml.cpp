#include "molearn/physics/system_xml.hpp"

#include <OpenMM.h>
#include <openmm/serialization/XmlSerializer.h>

#include <sstream>

#include "molearn/core/atomic_file.hpp"

namespace molearn {

std::string system_to_xml(const OpenMM::System& system) {
  std::ostringstream out;
  OpenMM::XmlSerializer::serialize<OpenMM::System>(&system, "System", out);
  return out.str();
}

void write_system_xml(const OpenMM::System& system, const std::string& path) {
  const std::string xml = system_to_xml(system);
  AtomicFile file(path);
  file.stream() << xml;
  file.commit();
}

}  // namespace molearn
