#include "molearn/io/mmcif_reader.hpp"

#include <zlib.h>
#include <gemmi/cif.hpp>
#include <gemmi/mmcif.hpp>
#include <gemmi/modify.hpp>

#include <cmath>
#include <filesystem>
#include <limits>
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

// gemmi 0.5 parses integers without an overflow check (string_to_int in
// gemmi/atox.hpp: signed overflow, undefined behaviour, found by fuzzing), in
// _atom_site and in many categories molearn does not use. So only the
// categories the reader needs (atoms, unit cell, space group) go on to
// gemmi::make_structure, and no number of _atom_site may start with an
// integer beyond int's range. Residue numbers are held tighter still: gemmi
// orders residues by num * 256 + insertion code in int (SeqId::operator< in
// gemmi/seqid.hpp), which overflows beyond +-(2^23 - 1), also found by
// fuzzing.
constexpr long long kMaxResidueNumber = std::numeric_limits<int>::max() / 256;

bool is_residue_number(const std::string& tag) {
  return tag == "_atom_site.auth_seq_id" || tag == "_atom_site.label_seq_id";
}

void keep_atoms_and_cell(gemmi::cif::Block& block, const std::string& path) {
  for (gemmi::cif::Item& item : block.items) {
    const bool wanted = item.has_prefix("_atom_site.") || item.has_prefix("_cell.") || item.has_prefix("_symmetry.") ||
                        item.has_prefix("_space_group.");
    if (!wanted && item.type != gemmi::cif::ItemType::Comment) item.erase();
  }
  auto check = [&](const std::string& tag, const std::string& value) {
    const bool residue = is_residue_number(tag);
    const long long limit = residue ? kMaxResidueNumber : std::numeric_limits<int>::max();
    std::size_t i = 0;
    while (i < value.size() && gemmi::is_space(value[i])) ++i;
    if (i < value.size() && (value[i] == '-' || value[i] == '+')) ++i;
    long long magnitude = 0;
    for (; i < value.size() && gemmi::is_digit(value[i]); ++i)
      if ((magnitude = magnitude * 10 + (value[i] - '0')) > limit)
        throw FormatError(path + ": " + tag + " '" + value.substr(0, 40) + "' is beyond the range of " +
                          (residue ? "residue numbers (+-" + std::to_string(limit) + ")" : std::string("integers")));
  };
  for (const gemmi::cif::Item& item : block.items) {
    if (item.type == gemmi::cif::ItemType::Pair && item.has_prefix("_atom_site.")) check(item.pair[0], item.pair[1]);
    if (item.type == gemmi::cif::ItemType::Loop && item.has_prefix("_atom_site.") && !item.loop.tags.empty())
      for (std::size_t k = 0; k < item.loop.values.size(); ++k)
        check(item.loop.tags[k % item.loop.tags.size()], item.loop.values[k]);
  }
}

}  // namespace

MmcifReader::MmcifReader(std::string path) : path_(std::move(path)) {
  if (!std::filesystem::exists(path_)) throw InputError(path_ + ": no such file");
  const std::string text = read_text(path_);
  gemmi::Structure st;
  try {
    gemmi::cif::Document document = gemmi::cif::read_memory(text.data(), text.size(), path_.c_str());
    if (document.blocks.empty()) throw FormatError(path_ + ": empty, or not an mmCIF file (no data_ block)");
    keep_atoms_and_cell(document.blocks[0], path_);
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
