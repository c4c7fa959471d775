#include "molearn/io/pdb_writer.hpp"

#include <cmath>
#include <cstdio>

#include "molearn/core/error.hpp"

namespace molearn {

namespace {

// PDB convention: names shorter than four characters whose element has one
// letter start in column 14, so " CA " (carbon) differs from "CA  " (calcium).
std::string aligned_atom_name(const Atom& atom) {
  std::string name = atom.name.substr(0, 4);
  if (name.size() < 4 && atom.element.size() <= 1) name = " " + name;
  name.resize(4, ' ');
  return name;
}

}  // namespace

std::string format_atom_record(const Atom& atom, int serial, const float xyz[3]) {
  char buffer[96];
  const char chain = atom.chain.empty() ? ' ' : atom.chain[0];
  std::snprintf(buffer, sizeof buffer, "%-6s%5d %4s %-4.4s%c%4d%c   %8.3f%8.3f%8.3f%6.2f%6.2f          %2.2s",
                atom.hetero ? "HETATM" : "ATOM", serial % 100000, aligned_atom_name(atom).c_str(),
                atom.res_name.c_str(), chain, atom.res_seq % 10000, atom.ins_code, xyz[0], xyz[1], xyz[2], 1.0, 0.0,
                atom.element.c_str());
  return buffer;
}

PdbWriter::PdbWriter(std::string path, Topology topology) : file_(std::move(path)), topology_(std::move(topology)) {
  file_.stream() << "REMARK   1 CREATED BY MOLEARN\n";
}

void PdbWriter::write(const Frame& frame) {
  const std::size_t n = topology_.atom_count();
  if (frame.atom_count() != n)
    throw InputError(file_.path() + ": frame has " + std::to_string(frame.atom_count()) + " atoms, the topology has " +
                     std::to_string(n));
  auto& out = file_.stream();
  ++models_;
  char model_line[32];
  std::snprintf(model_line, sizeof model_line, "MODEL     %4zu\n", models_ % 10000);
  out << model_line;
  for (std::size_t i = 0; i < n; ++i) {
    const float* xyz = &frame.xyz[3 * i];
    for (int k = 0; k < 3; ++k)
      if (!std::isfinite(xyz[k]) || xyz[k] > 9999.999f || xyz[k] < -999.999f)
        throw OutputError(file_.path() + ": model " + std::to_string(models_) + ", atom " + std::to_string(i + 1) +
                          ": coordinate " + std::to_string(xyz[k]) + " does not fit the PDB format's columns");
    const Atom& atom = topology_.atom(i);
    out << format_atom_record(atom, static_cast<int>(i + 1), xyz) << '\n';
    const bool chain_ends = i + 1 == n || topology_.atom(i + 1).chain != atom.chain;
    if (chain_ends && !atom.hetero) out << "TER\n";
  }
  out << "ENDMDL\n";
}

void PdbWriter::close() {
  file_.stream() << "END\n";
  file_.commit();
}

}  // namespace molearn
