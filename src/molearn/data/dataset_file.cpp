#include "molearn/data/dataset_file.hpp"

#include <zlib.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>
#include <map>
#include <type_traits>

#include "molearn/core/atomic_file.hpp"
#include "molearn/core/error.hpp"

namespace molearn {

static_assert(std::endian::native == std::endian::little,
              "the dataset file stores little-endian data; add byte swapping for this platform");

namespace {

constexpr char kMagic[8] = {'\x89', 'M', 'L', 'D', 'S', '\r', '\n', '\x1a'};
constexpr std::size_t kPreambleSize = 24;
constexpr std::size_t kAlignment = 64;

std::size_t data_offset(std::size_t header_length) {
  const std::size_t end = kPreambleSize + header_length;
  return (end + kAlignment - 1) / kAlignment * kAlignment;
}

// zlib's crc32 takes at most 4 GiB at a time.
std::uint32_t crc32_update(std::uint32_t crc, const float* values, std::size_t count) {
  uLong c = crc;
  const auto* bytes = reinterpret_cast<const Bytef*>(values);
  std::size_t left = count * sizeof(float);
  while (left > 0) {
    const uInt chunk = static_cast<uInt>(std::min<std::size_t>(left, 1u << 30));
    c = crc32(c, bytes, chunk);
    bytes += chunk;
    left -= chunk;
  }
  return static_cast<std::uint32_t>(c);
}

std::uint32_t crc32_of(const std::vector<float>& values) {
  return crc32_update(static_cast<std::uint32_t>(crc32(0L, Z_NULL, 0)), values.data(), values.size());
}

// An integer of the header as type Int. nlohmann's get<Int>() converts any
// number, and a float outside Int's range (1e30 in a damaged or hand-edited
// header) is undefined behaviour, so the kind and range are checked first.
template <typename Int>
Int integer_from_json(const nlohmann::json& j, const char* what) {
  if (j.is_number_unsigned()) {
    const auto value = j.get<std::uint64_t>();
    if (value <= static_cast<std::uint64_t>(std::numeric_limits<Int>::max())) return static_cast<Int>(value);
  } else if constexpr (std::is_signed_v<Int>) {
    if (j.is_number_integer()) {  // nlohmann stores only negative integers as signed
      const auto value = j.get<std::int64_t>();
      if (value >= static_cast<std::int64_t>(std::numeric_limits<Int>::min())) return static_cast<Int>(value);
    }
  }
  const std::string range = sizeof(Int) >= 8 ? (std::is_signed_v<Int> ? "" : " >= 0")
                                             : " from " + std::to_string(std::numeric_limits<Int>::min()) + " to " +
                                                   std::to_string(std::numeric_limits<Int>::max());
  std::string found = j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  if (found.size() > 40) found = found.substr(0, 40) + "...";
  throw std::runtime_error(std::string("'") + what + "' must hold integers" + range + ", found " + found);
}

template <typename Int>
std::vector<Int> integers_from_json(const nlohmann::json& j, const char* what) {
  if (!j.is_array()) throw std::runtime_error(std::string("'") + what + "' must be a list of integers");
  std::vector<Int> values;
  values.reserve(j.size());
  for (const nlohmann::json& item : j) values.push_back(integer_from_json<Int>(item, what));
  return values;
}

}  // namespace

nlohmann::json topology_to_json(const Topology& topology) {
  nlohmann::json names = nlohmann::json::array(), res_names = nlohmann::json::array(),
                 res_seqs = nlohmann::json::array(), chains = nlohmann::json::array(),
                 elements = nlohmann::json::array(), hetero = nlohmann::json::array();
  std::string ins_codes;
  for (const Atom& a : topology.atoms()) {
    names.push_back(a.name);
    res_names.push_back(a.res_name);
    res_seqs.push_back(a.res_seq);
    ins_codes += a.ins_code;
    chains.push_back(a.chain);
    elements.push_back(a.element);
    hetero.push_back(a.hetero);
  }
  return {{"name", names},   {"res_name", res_names}, {"res_seq", res_seqs}, {"ins_code", ins_codes},
          {"chain", chains}, {"element", elements},   {"hetero", hetero}};
}

Topology topology_from_json(const nlohmann::json& j, std::size_t atoms) {
  // Lengths first: a damaged atom count must not size the list.
  const std::string ins_codes = j.at("ins_code").get<std::string>();
  for (const char* key : {"name", "res_name", "res_seq", "chain", "element", "hetero"})
    if (j.at(key).size() != atoms) throw FormatError(std::string("topology field '") + key + "' has the wrong length");
  if (ins_codes.size() != atoms) throw FormatError("topology field 'ins_code' has the wrong length");
  std::vector<Atom> list(atoms);
  for (std::size_t i = 0; i < atoms; ++i) {
    Atom& a = list[i];
    a.name = j["name"][i].get<std::string>();
    a.res_name = j["res_name"][i].get<std::string>();
    a.res_seq = integer_from_json<int>(j["res_seq"][i], "res_seq");
    a.ins_code = ins_codes[i];
    a.chain = j["chain"][i].get<std::string>();
    a.element = j["element"][i].get<std::string>();
    a.hetero = j["hetero"][i].get<bool>();
    a.serial = static_cast<int>(i + 1);
  }
  return Topology(std::move(list));
}

namespace {

nlohmann::json header_of(const Dataset& d) {
  nlohmann::json termini_n = nlohmann::json::array(), termini_c = nlohmann::json::array();
  for (std::size_t r = 0; r < d.termini.size(); ++r) {
    if (d.termini[r].n_terminal) termini_n.push_back(r);
    if (d.termini[r].c_terminal) termini_c.push_back(r);
  }
  nlohmann::json origin_file = nlohmann::json::array(), origin_frame = nlohmann::json::array();
  for (const auto& o : d.origins) {
    origin_file.push_back(o.file);
    origin_frame.push_back(o.frame);
  }
  return {
      {"format", "molearn-dataset"},
      {"version", kDatasetFormatVersion},
      {"created_by", std::string("molearn ") + MOLEARN_VERSION},
      {"frames", d.frame_count},
      {"atoms", d.atom_count()},
      {"dtype", "float32"},
      {"byte_order", "little"},
      {"layout", "frame,atom,xyz"},
      {"data_crc32", crc32_of(d.coords)},
      {"mean", d.mean},
      {"std", d.std},
      {"topology", topology_to_json(d.topology)},
      {"termini", {{"n_terminal_residues", termini_n}, {"c_terminal_residues", termini_c}}},
      {"split", {{"train", d.train_indices}, {"valid", d.valid_indices}}},
      {"sources", d.sources},
      {"topology_source", d.topology_source},
      {"origins", {{"file", origin_file}, {"frame", origin_frame}}},
      {"settings", d.settings},
  };
}

// The header's per-frame lists (split.train, split.valid, origins.file,
// origins.frame): a number per frame, 10^5 or more in a large dataset. In
// nlohmann's document each would take 16 bytes and more, so while parsing
// they are collected straight into vectors and left out of the document
// (which keeps the lists, empty). The first bad value is kept as an error.
class FrameListCollector {
 public:
  std::map<std::string, std::vector<std::uint64_t>> lists;  // "split.train" -> values
  std::string error;
  // Room reserved in each list once the header's frame count is seen (it
  // comes first: keys are sorted), so that lists do not grow by doubling.
  // Bounded by what the header's text could hold, whatever a damaged header says.
  std::size_t max_reserve = 0;

  bool operator()(int /*depth*/, nlohmann::json::parse_event_t event, nlohmann::json& parsed) {
    using Event = nlohmann::json::parse_event_t;
    switch (event) {
      case Event::key:
        last_key_ = parsed.get<std::string>();
        return true;
      case Event::object_start:
      case Event::array_start:
        path_.push_back(!arrays_.empty() && !arrays_.back() ? last_key_ : std::string());
        arrays_.push_back(event == Event::array_start);
        return true;
      case Event::object_end:
      case Event::array_end:
        if (!path_.empty()) path_.pop_back(), arrays_.pop_back();
        return true;
      case Event::value:
        break;
    }
    if (path_.size() == 1 && last_key_ == "frames" && parsed.is_number_unsigned())
      reserve_ = std::min<std::uint64_t>(parsed.get<std::uint64_t>(), max_reserve);
    // A number of one of the lists: the root object, then "split" or
    // "origins", then the list.
    if (path_.size() != 3 || !arrays_[2] || arrays_[1]) return true;
    const std::string name = path_[1] + "." + path_[2];
    if (name != "split.train" && name != "split.valid" && name != "origins.file" && name != "origins.frame")
      return true;
    try {
      auto& list = lists[name];
      if (list.empty()) list.reserve(name == "split.valid" ? 0 : reserve_);
      list.push_back(integer_from_json<std::uint64_t>(parsed, name.c_str()));
    } catch (const std::exception& e) {
      if (error.empty()) error = e.what();
    }
    return false;
  }

 private:
  std::string last_key_;
  std::size_t reserve_ = 0;
  std::vector<std::string> path_;  // the key of each open container in its parent
  std::vector<bool> arrays_;       // whether each open container is a list
};

struct RawHeader {
  nlohmann::json json;
  FrameListCollector frame_lists;  // filled only when read with collect_frame_lists
  std::size_t data_offset = 0;
  std::uintmax_t file_size = 0;
};

RawHeader read_raw_header(std::ifstream& in, const std::string& path, bool collect_frame_lists = false) {
  RawHeader raw;
  if (std::filesystem::is_directory(path)) throw InputError(path + ": is a folder, not a dataset file");
  std::error_code ec;
  raw.file_size = std::filesystem::file_size(path, ec);
  if (ec) throw InputError(path + ": cannot read the file size: " + ec.message());
  char preamble[kPreambleSize];
  if (!in.read(preamble, kPreambleSize))
    throw FormatError(path + ": too short to be a molearn dataset (" + std::to_string(raw.file_size) + " bytes)");
  if (std::memcmp(preamble, kMagic, sizeof kMagic) != 0)
    throw FormatError(path +
                      ": not a molearn dataset (wrong magic bytes; expected a file written by 'molearn prepare')");
  std::uint32_t version = 0;
  std::uint64_t header_length = 0;
  std::memcpy(&version, preamble + 8, 4);
  std::memcpy(&header_length, preamble + 16, 8);
  if (version != kDatasetFormatVersion)
    throw FormatError(path + ": dataset format version " + std::to_string(version) + ", this molearn reads version " +
                      std::to_string(kDatasetFormatVersion) + " (re-run 'molearn prepare' with this version)");
  if (header_length > raw.file_size - kPreambleSize)
    throw FormatError(path + ": truncated (header of " + std::to_string(header_length) +
                      " bytes does not fit in the file)");
  std::string text(header_length, '\0');
  if (!in.read(text.data(), static_cast<std::streamsize>(header_length)))
    throw FormatError(path + ": truncated while reading the header");
  try {
    if (collect_frame_lists) {
      raw.frame_lists.max_reserve = text.size() / 2;  // a number and a comma at least
      raw.json = nlohmann::json::parse(text, std::ref(raw.frame_lists));
    } else {
      raw.json = nlohmann::json::parse(text);
    }
  } catch (const std::exception& e) {
    throw FormatError(path + ": corrupt header (invalid JSON: " + e.what() + ")");
  }
  raw.data_offset = data_offset(header_length);
  return raw;
}

}  // namespace

void write_dataset(const Dataset& dataset, const std::string& path) {
  if (dataset.coords.size() != dataset.frame_count * dataset.atom_count() * 3)
    throw InputError(path + ": dataset coordinates do not match frames x atoms x 3");
  const std::string header = header_of(dataset).dump();
  AtomicFile file(path);
  auto& out = file.stream();
  out.write(kMagic, sizeof kMagic);
  const std::uint32_t version = kDatasetFormatVersion, reserved = 0;
  const std::uint64_t length = header.size();
  out.write(reinterpret_cast<const char*>(&version), 4);
  out.write(reinterpret_cast<const char*>(&reserved), 4);
  out.write(reinterpret_cast<const char*>(&length), 8);
  out.write(header.data(), static_cast<std::streamsize>(header.size()));
  const std::string padding(data_offset(header.size()) - kPreambleSize - header.size(), '\0');
  out.write(padding.data(), static_cast<std::streamsize>(padding.size()));
  out.write(reinterpret_cast<const char*>(dataset.coords.data()),
            static_cast<std::streamsize>(dataset.coords.size() * sizeof(float)));
  file.commit();
}

nlohmann::json read_dataset_header(const std::string& path) {
  if (!std::filesystem::exists(path)) throw InputError(path + ": no such file");
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(path + ": cannot open file for reading");
  return read_raw_header(in, path).json;
}

Dataset read_dataset_metadata(const std::string& path, DatasetDataSection& section) {
  if (!std::filesystem::exists(path)) throw InputError(path + ": no such file");
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(path + ": cannot open file for reading");
  RawHeader raw = read_raw_header(in, path, /*collect_frame_lists=*/true);
  const nlohmann::json& h = raw.json;
  // A per-frame list: the numbers were collected while parsing; anything
  // left in the document's list is not a number.
  // Taken (moved) from the collector: large lists are not held twice.
  const auto frame_list = [&](const char* group, const char* key) {
    const std::string name = std::string(group) + "." + key;
    const nlohmann::json& list = h.at(group).at(key);
    if (!list.is_array() || !list.empty()) throw std::runtime_error("'" + name + "' must be a list of integers");
    return std::move(raw.frame_lists.lists[name]);
  };
  Dataset d;
  try {
    if (!raw.frame_lists.error.empty()) throw std::runtime_error(raw.frame_lists.error);
    if (h.at("format") != "molearn-dataset" || h.at("dtype") != "float32" || h.at("byte_order") != "little")
      throw std::runtime_error("unsupported format, dtype or byte order");
    if (!h.at("frames").is_number_unsigned() || !h.at("atoms").is_number_unsigned())
      throw std::runtime_error("'frames' and 'atoms' must be counts (integers >= 0)");
    d.frame_count = h.at("frames").get<std::size_t>();
    const auto atoms = h.at("atoms").get<std::size_t>();
    // Without atoms the file-size check below could not bound the frame count.
    if (atoms == 0) throw std::runtime_error("'atoms' is 0");
    d.topology = topology_from_json(h.at("topology"), atoms);
    d.mean = h.at("mean").get<double>();
    d.std = h.at("std").get<double>();
    d.termini.resize(d.topology.residue_count());
    for (const char* key : {"n_terminal_residues", "c_terminal_residues"})
      for (std::size_t r : integers_from_json<std::size_t>(h.at("termini").at(key), key)) {
        if (r >= d.termini.size()) throw std::runtime_error("terminal residue index out of range");
        (key[0] == 'n' ? d.termini[r].n_terminal : d.termini[r].c_terminal) = true;
      }
    if constexpr (std::is_same_v<std::size_t, std::uint64_t>) {
      d.train_indices = frame_list("split", "train");
      d.valid_indices = frame_list("split", "valid");
    } else {
      const auto train = frame_list("split", "train"), valid = frame_list("split", "valid");
      d.train_indices.assign(train.begin(), train.end());
      d.valid_indices.assign(valid.begin(), valid.end());
    }
    for (std::size_t i : d.train_indices)
      if (i >= d.frame_count) throw std::runtime_error("split index out of range");
    for (std::size_t i : d.valid_indices)
      if (i >= d.frame_count) throw std::runtime_error("split index out of range");
    d.sources = h.at("sources").get<std::vector<std::string>>();
    d.topology_source = h.at("topology_source").get<std::string>();
    const auto files = frame_list("origins", "file");
    const auto frames = frame_list("origins", "frame");
    d.origins.reserve(std::min(files.size(), frames.size()));
    for (std::size_t i = 0; i < files.size() && i < frames.size(); ++i) {
      if (files[i] > std::numeric_limits<std::uint32_t>::max())
        throw std::runtime_error("'origins.file' must hold integers from 0 to " +
                                 std::to_string(std::numeric_limits<std::uint32_t>::max()) + ", found " +
                                 std::to_string(files[i]));
      d.origins.push_back({static_cast<std::uint32_t>(files[i]), frames[i]});
    }
    d.settings = h.value("settings", nlohmann::json::object());
    if (!std::isfinite(d.std) || d.std <= 0 || !std::isfinite(d.mean)) throw std::runtime_error("invalid mean/std");
    // Read here, with the other fields, so that a missing or damaged checksum
    // is a FormatError naming the file like them (it escaped as a JSON
    // library exception before).
    section.crc32 = integer_from_json<std::uint32_t>(h.at("data_crc32"), "data_crc32");
  } catch (const std::exception& e) {
    throw FormatError(path + ": corrupt header: " + e.what());
  }
  // A damaged frame count must not overflow the expected size (or size the coordinates).
  const std::uintmax_t frame_bytes = static_cast<std::uintmax_t>(d.atom_count()) * 3 * sizeof(float);
  if (frame_bytes > 0 && d.frame_count > raw.file_size / frame_bytes)
    throw FormatError(path + ": file is " + std::to_string(raw.file_size) + " bytes, too small for " +
                      std::to_string(d.frame_count) + " frames x " + std::to_string(d.atom_count()) +
                      " atoms (truncated or corrupt)");
  const std::uintmax_t data_bytes = d.frame_count * frame_bytes;
  if (raw.file_size != raw.data_offset + data_bytes)
    throw FormatError(path + ": file is " + std::to_string(raw.file_size) + " bytes, expected " +
                      std::to_string(raw.data_offset + data_bytes) + " for " + std::to_string(d.frame_count) +
                      " frames x " + std::to_string(d.atom_count()) + " atoms (truncated or corrupt)");
  section.offset = raw.data_offset;
  section.bytes = data_bytes;
  return d;
}

void check_dataset_coordinates(const std::string& path, const Dataset& metadata, const DatasetDataSection& section,
                               float* out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(path + ": cannot open file for reading");
  in.seekg(static_cast<std::streamoff>(section.offset));
  const std::size_t total = section.bytes / sizeof(float);
  // Without a destination the data goes through a bounded buffer: memory for
  // 4 Mi floats whatever the dataset's size.
  std::vector<float> buffer(out ? 0 : std::min<std::size_t>(total, std::size_t{1} << 22));
  const std::size_t chunk = out ? std::max<std::size_t>(total, 1) : std::max<std::size_t>(buffer.size(), 1);
  std::uint32_t crc = static_cast<std::uint32_t>(crc32(0L, Z_NULL, 0));
  std::size_t first_bad = total;
  for (std::size_t done = 0; done < total;) {
    const std::size_t count = std::min(chunk, total - done);
    float* values = out ? out + done : buffer.data();
    if (!in.read(reinterpret_cast<char*>(values), static_cast<std::streamsize>(count * sizeof(float))))
      throw FormatError(path + ": truncated while reading coordinates");
    crc = crc32_update(crc, values, count);
    if (first_bad == total) {
      const float* bad = std::find_if(values, values + count, [](float x) { return !std::isfinite(x); });
      if (bad != values + count) first_bad = done + static_cast<std::size_t>(bad - values);
    }
    done += count;
  }
  // The checksum first: a damaged file is reported as damaged even when the
  // damage made a value non-finite.
  if (crc != section.crc32) throw FormatError(path + ": coordinates do not match their checksum (the file is corrupt)");
  if (first_bad != total) {
    const std::size_t per_frame = metadata.atom_count() * 3;
    throw FormatError(path + ": frame " + std::to_string(first_bad / per_frame) + " (0-based): atom " +
                      std::to_string(first_bad % per_frame / 3 + 1) + " has a non-finite coordinate");
  }
}

Dataset read_dataset(const std::string& path, bool load_coordinates) {
  DatasetDataSection section;
  Dataset d = read_dataset_metadata(path, section);
  if (!load_coordinates) return d;
  d.coords.resize(d.frame_count * d.atom_count() * 3);
  check_dataset_coordinates(path, d, section, d.coords.data());
  return d;
}

}  // namespace molearn
