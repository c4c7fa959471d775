#include "molearn/io/mmcif_reader.hpp"

#include <zlib.h>
#include <gemmi/cif.hpp>
#include <gemmi/mmcif.hpp>
#include <gemmi/modify.hpp>

#include <cmath>
#include <filesystem>
#include <string>
#include <vector>

#include "molearn/core/error.hpp"

namespace molearn {

namespace {

std::vector<Atom> atoms_of(const gemmi::Model& model, std::vector<float>& xyz) {
  std::vector<Atom> atoms;
  xyz.clear();
  for (const gemmi::Chain& chain : model.chains)
    for (const gemmi::Residue& residue : chain.residues)
      for (const gemmi::Atom& a : residue.atoms) {
        Atom atom;
        atom.name = a.name;
        atom.res_name = residue.name;
        atom.res_seq = residue.seqid.num.has_value() ? *residue.seqid.num : 0;
        atom.ins_code = residue.seqid.icode;
        atom.chain = chain.name;
        atom.element = a.element.uname();
        atom.hetero = residue.het_flag == 'H';
        atom.serial = a.serial;
        atoms.push_back(std::move(atom));
        xyz.push_back(static_cast<float>(a.pos.x));
        xyz.push_back(static_cast<float>(a.pos.y));
        xyz.push_back(static_cast<float>(a.pos.z));
      }
  return atoms;
}

// The whole file, decompressed when it is gzipped (zlib reads other files as
// they are). gemmi's own .gz reading guesses the size from the last four
// bytes, which a cut file does not have, and says so in its own words.
std::string read_text(const std::string& path) {
  gzFile f = gzopen(path.c_str(), "rb");
  if (!f) throw InputError(path + ": cannot open file for reading");
  std::string text;
  std::vector<char> buffer(1 << 16);
  int n = 0;
  while ((n = gzread(f, buffer.data(), static_cast<unsigned>(buffer.size()))) > 0)
    text.append(buffer.data(), static_cast<std::size_t>(n));
  int err = Z_OK;
  const std::string message = gzerror(f, &err);
  gzclose(f);
  if (n < 0 || err != Z_OK)
    throw FormatError(path + ": cannot be read: " + message + " (a cut or damaged compressed file?)");
  return text;
}

}  // namespace

MmcifReader::MmcifReader(std::string path) : path_(std::move(path)) {
  if (!std::filesystem::exists(path_)) throw InputError(path_ + ": no such file");
  const std::string text = read_text(path_);
  gemmi::Structure st;
  try {
    const gemmi::cif::Document document = gemmi::cif::read_memory(text.data(), text.size(), path_.c_str());
    if (document.blocks.empty()) throw FormatError(path_ + ": empty, or not an mmCIF file (no data_ block)");
    st = gemmi::make_structure(document);
  } catch (const Error&) {
    throw;
  } catch (const std::exception& e) {
    throw FormatError(path_ + ": not a readable mmCIF file: " + e.what());
  }
  // Keep the first alternate location of each atom, as for PDB files.
  gemmi::remove_alternative_conformations(st);
  if (st.models.empty()) throw FormatError(path_ + ": no atom_site records found");
  for (std::size_t m = 0; m < st.models.size(); ++m) {
    Frame frame;
    std::vector<Atom> atoms = atoms_of(st.models[m], frame.xyz);
    if (m == 0) {
      if (atoms.empty()) throw FormatError(path_ + ": model 1 has no atoms");
      topology_ = Topology(std::move(atoms));
    } else if (atoms.size() != topology_.atom_count()) {
      throw FormatError(path_ + ": model " + st.models[m].name + " has " + std::to_string(atoms.size()) +
                        " atoms, the first model has " + std::to_string(topology_.atom_count()) +
                        " (every model must have the same atoms)");
    }
    for (std::size_t i = 0; i < frame.xyz.size(); ++i)
      if (!std::isfinite(frame.xyz[i]))
        throw FormatError(path_ + ": model " + st.models[m].name + ": atom " + std::to_string(i / 3 + 1) +
                          " has a non-finite coordinate");
    if (st.cell.is_crystal())
      frame.cell = UnitCell{st.cell.a, st.cell.b, st.cell.c, st.cell.alpha, st.cell.beta, st.cell.gamma};
    frames_.push_back(std::move(frame));
  }
}

bool MmcifReader::read(Frame& frame) {
  if (position_ >= frames_.size()) return false;
  frame = frames_[position_++];
  return true;
}

}  // namespace molearn
