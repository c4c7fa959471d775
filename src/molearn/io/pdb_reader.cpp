#include "molearn/io/pdb_reader.hpp"

#include <charconv>
#include <cmath>
#include <set>
#include <tuple>

#include "molearn/core/error.hpp"

namespace molearn {

namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// Columns are 1-based and inclusive, as in the PDB format description.
std::string_view columns(std::string_view line, std::size_t first, std::size_t last) {
  if (line.size() < first) return {};
  return line.substr(first - 1, std::min(last, line.size()) - first + 1);
}

template <typename T>
bool parse_number(std::string_view text, T& value) {
  text = trim(text);
  if (!text.empty() && text.front() == '+') text.remove_prefix(1);
  if (text.empty()) return false;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  return ec == std::errc() && end == text.data() + text.size();
}

bool starts_with(std::string_view line, std::string_view word) { return line.substr(0, word.size()) == word; }

// "END" alone ends a structure; "ENDMDL" is handled separately.
bool is_end_record(std::string_view line) { return starts_with(line, "END") && trim(line.substr(3)).empty(); }

}  // namespace

bool parse_atom_record(std::string_view line, Atom& atom, float xyz[3], char& altloc, std::string& error) {
  if (line.size() < 54) {
    error = "ATOM/HETATM record shorter than 54 columns (coordinates end at column 54)";
    return false;
  }
  atom.hetero = starts_with(line, "HETATM");
  if (!parse_number(columns(line, 7, 11), atom.serial)) atom.serial = 0;  // may be hex/blank in huge files
  const std::string raw_name(columns(line, 13, 16));
  atom.name = std::string(trim(raw_name));
  altloc = line[16];
  atom.res_name = std::string(trim(columns(line, 18, 21)));
  atom.chain = std::string(trim(columns(line, 22, 22)));
  if (!parse_number(columns(line, 23, 26), atom.res_seq)) {
    error = "residue number in columns 23-26 is not an integer: '" + std::string(columns(line, 23, 26)) + "'";
    return false;
  }
  atom.ins_code = line.size() >= 27 ? line[26] : ' ';
  static constexpr std::size_t kCoordinateColumns[3][2] = {{31, 38}, {39, 46}, {47, 54}};
  for (int k = 0; k < 3; ++k) {
    auto text = columns(line, kCoordinateColumns[k][0], kCoordinateColumns[k][1]);
    if (!parse_number(text, xyz[k]) || !std::isfinite(xyz[k])) {
      error = std::string("coordinate ") + "xyz"[k] + " in columns " + std::to_string(kCoordinateColumns[k][0]) + "-" +
              std::to_string(kCoordinateColumns[k][1]) + " is not a finite number: '" + std::string(text) + "'";
      return false;
    }
  }
  const auto element = trim(columns(line, 77, 78));
  atom.element = element.empty() ? element_from_atom_name(raw_name, atom.res_name) : std::string(element);
  return true;
}

PdbReader::PdbReader(std::string path) : lines_(std::move(path)) {
  std::vector<Atom> atoms;
  Frame frame;
  if (!read_model(&atoms, frame)) fail("no ATOM or HETATM records found");
  topology_ = Topology(std::move(atoms));
  first_frame_ = std::move(frame);
}

void PdbReader::fail(const std::string& what) const { throw FormatError(path() + ": " + what); }

bool PdbReader::read(Frame& frame) {
  if (first_frame_) {
    frame = std::move(*first_frame_);
    first_frame_.reset();
    ++position_;
    return true;
  }
  if (!read_model(nullptr, frame)) return false;
  ++position_;
  return true;
}

bool PdbReader::read_model(std::vector<Atom>* atoms, Frame& frame) {
  // When `atoms` is null the topology is known: each atom of this model must
  // match it, in order.
  const std::size_t model_index = position_;
  frame.xyz.clear();
  frame.cell = cell_;
  std::size_t count = 0;
  // Alternate locations: keep the first one seen of each atom, as MDTraj does.
  std::set<std::tuple<std::string, int, char, std::string, std::string>> seen_altloc_atoms;
  Atom atom;
  std::string error;
  std::string_view line;
  while (lines_.next(line)) {
    if (starts_with(line, "ATOM  ") || starts_with(line, "HETATM")) {
      float xyz[3];
      char altloc = ' ';
      if (!parse_atom_record(line, atom, xyz, altloc, error))
        fail("line " + std::to_string(lines_.line_number()) + ": " + error);
      if (altloc != ' ') {
        auto key = std::make_tuple(atom.chain, atom.res_seq, atom.ins_code, atom.res_name, atom.name);
        if (!seen_altloc_atoms.insert(key).second) continue;
      }
      if (count == 0) model_start_line_ = lines_.line_number();
      if (atoms) {
        atoms->push_back(atom);
      } else {
        if (count >= topology_.atom_count())
          fail("model " + std::to_string(model_index + 1) + " (starting line " + std::to_string(model_start_line_) +
               ") has more atoms than the first model (" + std::to_string(topology_.atom_count()) + "); line " +
               std::to_string(lines_.line_number()) + " is extra");
        const Atom& expected = topology_.atom(count);
        if (expected.name != atom.name || expected.res_seq != atom.res_seq)
          fail("line " + std::to_string(lines_.line_number()) + ": model " + std::to_string(model_index + 1) +
               " has atom " + atom.name + " of residue " + std::to_string(atom.res_seq) +
               " where the first model has " + expected.name + " of residue " + std::to_string(expected.res_seq) +
               " (every model must have the same atoms in the same order)");
      }
      frame.xyz.insert(frame.xyz.end(), xyz, xyz + 3);
      ++count;
    } else if (starts_with(line, "CRYST1")) {
      UnitCell cell;
      if (parse_number(columns(line, 7, 15), cell.a) && parse_number(columns(line, 16, 24), cell.b) &&
          parse_number(columns(line, 25, 33), cell.c) && parse_number(columns(line, 34, 40), cell.alpha) &&
          parse_number(columns(line, 41, 47), cell.beta) && parse_number(columns(line, 48, 54), cell.gamma) &&
          cell.a > 1.0) {  // CRYST1 1 1 1 is the "no cell" placeholder
        cell_ = cell;
        frame.cell = cell;
      }
    } else if (starts_with(line, "ENDMDL") || starts_with(line, "MODEL") || is_end_record(line)) {
      if (count > 0) break;  // MODEL without a preceding ENDMDL also starts a new structure
    }
  }
  if (count == 0) return false;
  if (!atoms && count != topology_.atom_count())
    fail("model " + std::to_string(model_index + 1) + " (starting line " + std::to_string(model_start_line_) +
         ") has " + std::to_string(count) + " atoms, the first model has " + std::to_string(topology_.atom_count()) +
         " (every model must have the same atoms)");
  return true;
}

}  // namespace molearn
