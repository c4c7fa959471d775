#include "molearn/train/checkpoint.hpp"

#include <zlib.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <fstream>

#include "molearn/core/error.hpp"
#include "molearn/data/dataset_file.hpp"

namespace molearn {

namespace {

nlohmann::json state_to_json(const CheckpointState& s) {
  nlohmann::json n_termini = nlohmann::json::array(), c_termini = nlohmann::json::array();
  for (std::size_t r = 0; r < s.termini.size(); ++r) {
    if (s.termini[r].n_terminal) n_termini.push_back(r);
    if (s.termini[r].c_terminal) c_termini.push_back(r);
  }
  return {{"format", "molearn-checkpoint"},
          {"version", kCheckpointVersion},
          {"created_by", std::string("molearn ") + MOLEARN_VERSION},
          {"model", s.model.to_json()},
          {"options", s.options},
          {"dataset", {{"path", s.dataset_path}, {"mean", s.mean}, {"std", s.std}, {"atoms", s.topology.atom_count()}}},
          {"topology", topology_to_json(s.topology)},
          {"termini", {{"n_terminal_residues", n_termini}, {"c_terminal_residues", c_termini}}},
          {"epoch", s.epoch},
          {"best_epoch", s.best_epoch},
          {"best_valid_loss", s.best_valid_loss},
          {"epochs_without_improvement", s.epochs_without_improvement},
          {"rng_state", s.rng_state},
          {"history", s.history}};
}

CheckpointState state_from_json(const nlohmann::json& j) {
  CheckpointState s;
  s.model = ModelConfig::from_json(j.at("model"));
  s.options = j.at("options");
  s.dataset_path = j.at("dataset").at("path").get<std::string>();
  s.mean = j.at("dataset").at("mean").get<double>();
  s.std = j.at("dataset").at("std").get<double>();
  s.topology = topology_from_json(j.at("topology"), j.at("dataset").at("atoms").get<std::size_t>());
  s.termini.resize(s.topology.residue_count());
  for (const char* key : {"n_terminal_residues", "c_terminal_residues"})
    for (std::size_t r : j.at("termini").at(key)) {
      if (r >= s.termini.size()) throw std::runtime_error("terminal residue index out of range");
      (key[0] == 'n' ? s.termini[r].n_terminal : s.termini[r].c_terminal) = true;
    }
  s.epoch = j.at("epoch").get<int>();
  s.best_epoch = j.at("best_epoch").get<int>();
  s.best_valid_loss = j.at("best_valid_loss").get<double>();
  s.epochs_without_improvement = j.at("epochs_without_improvement").get<int>();
  s.rng_state = j.at("rng_state").get<std::string>();
  s.history = j.at("history");
  return s;
}

std::uint64_t little_endian(const unsigned char* p, int bytes) {
  std::uint64_t value = 0;
  for (int i = bytes - 1; i >= 0; --i) value = value << 8 | p[i];
  return value;
}

// A checkpoint is a zip archive (PyTorch's format) whose records are stored
// uncompressed, each with its CRC-32. libtorch's reader does not check them
// (its miniz is built without CRC checks), so flipped bytes would load
// silently: check every record here. Throws FormatError naming the file.
void verify_record_checksums(const std::string& path) {
  if (std::filesystem::is_directory(path)) throw InputError(path + ": is a folder, not a checkpoint file");
  std::ifstream in(path, std::ios::binary);
  in.seekg(0, std::ios::end);
  if (!in || in.tellg() < 0) throw InputError(path + ": cannot be read");
  const auto size = static_cast<std::uint64_t>(in.tellg());
  const auto not_checkpoint = [&] {
    return FormatError(path + ": not a molearn checkpoint (cannot be read as a torch archive)");
  };
  const auto corrupt = [&](const std::string& why) {
    return FormatError(path + ": corrupt checkpoint: " + why + "; the file was damaged or cut after it was written");
  };
  const auto read_at = [&](std::uint64_t offset, unsigned char* buffer, std::uint64_t n) {
    if (offset > size || n > size - offset) throw corrupt("a record lies beyond the end of the file");
    in.seekg(static_cast<std::streamoff>(offset));
    in.read(reinterpret_cast<char*>(buffer), static_cast<std::streamsize>(n));
    if (!in) throw corrupt("cannot read a record");
  };
  // End of central directory: 22 bytes and a comment of at most 65535.
  const std::uint64_t tail_size = std::min<std::uint64_t>(size, 22 + 65535);
  if (tail_size < 22) throw not_checkpoint();
  std::vector<unsigned char> tail(tail_size);
  read_at(size - tail_size, tail.data(), tail_size);
  std::uint64_t eocd = tail_size - 22;
  while (little_endian(&tail[eocd], 4) != 0x06054b50) {
    if (eocd == 0) throw not_checkpoint();
    --eocd;
  }
  std::uint64_t entries = little_endian(&tail[eocd + 10], 2);
  std::uint64_t directory_size = little_endian(&tail[eocd + 12], 4);
  std::uint64_t directory_offset = little_endian(&tail[eocd + 16], 4);
  if (entries == 0xFFFF || directory_size == 0xFFFFFFFF || directory_offset == 0xFFFFFFFF) {  // zip64
    if (eocd < 20 || little_endian(&tail[eocd - 20], 4) != 0x07064b50) throw corrupt("no zip64 directory");
    unsigned char record[56];
    read_at(little_endian(&tail[eocd - 20 + 8], 8), record, sizeof record);
    if (little_endian(record, 4) != 0x06064b50) throw corrupt("no zip64 directory");
    entries = little_endian(record + 32, 8);
    directory_size = little_endian(record + 40, 8);
    directory_offset = little_endian(record + 48, 8);
  }
  if (directory_offset > size || directory_size > size - directory_offset) throw corrupt("bad record directory");
  std::vector<unsigned char> directory(directory_size);
  read_at(directory_offset, directory.data(), directory_size);
  std::vector<unsigned char> buffer(1 << 20);
  std::uint64_t p = 0;
  for (std::uint64_t e = 0; e < entries; ++e) {
    if (directory_size - p < 46 || little_endian(&directory[p], 4) != 0x02014b50) throw corrupt("bad record directory");
    const auto method = little_endian(&directory[p + 10], 2);
    const auto crc = static_cast<std::uint32_t>(little_endian(&directory[p + 16], 4));
    std::uint64_t stored_size = little_endian(&directory[p + 20], 4);
    std::uint64_t plain_size = little_endian(&directory[p + 24], 4);
    const auto name_length = little_endian(&directory[p + 28], 2);
    const auto extra_length = little_endian(&directory[p + 30], 2);
    const auto comment_length = little_endian(&directory[p + 32], 2);
    std::uint64_t local = little_endian(&directory[p + 42], 4);
    if (directory_size - p - 46 < name_length + extra_length + comment_length) throw corrupt("bad record directory");
    const std::string name(reinterpret_cast<const char*>(&directory[p + 46]), name_length);
    // zip64 sizes and offsets: in the extra field 0x0001, those that are 0xFFFFFFFF above, in this order.
    for (std::uint64_t x = p + 46 + name_length; x + 4 <= p + 46 + name_length + extra_length;) {
      const auto id = little_endian(&directory[x], 2);
      const auto length = little_endian(&directory[x + 2], 2);
      std::uint64_t q = x + 4;
      const std::uint64_t end = std::min<std::uint64_t>(q + length, p + 46 + name_length + extra_length);
      if (id == 1) {
        for (std::uint64_t* field : {&plain_size, &stored_size, &local})
          if (*field == 0xFFFFFFFF && q + 8 <= end) {
            *field = little_endian(&directory[q], 8);
            q += 8;
          }
      }
      x = end;
    }
    p += 46 + name_length + extra_length + comment_length;
    if (method != 0) continue;  // compressed: not written by libtorch; its reader checks those
    unsigned char header[30];
    read_at(local, header, sizeof header);
    if (little_endian(header, 4) != 0x04034b50) throw corrupt("record '" + name + "' has no header");
    std::uint64_t offset = local + 30 + little_endian(header + 26, 2) + little_endian(header + 28, 2);
    if (offset > size || stored_size > size - offset) throw corrupt("record '" + name + "' is cut short");
    uLong actual = crc32(0L, Z_NULL, 0);
    for (std::uint64_t left = stored_size; left > 0;) {
      const std::uint64_t chunk = std::min<std::uint64_t>(left, buffer.size());
      read_at(offset, buffer.data(), chunk);
      actual = crc32(actual, buffer.data(), static_cast<uInt>(chunk));
      offset += chunk;
      left -= chunk;
    }
    if (static_cast<std::uint32_t>(actual) != crc)
      throw corrupt("record '" + name + "' does not match its checksum (CRC-32)");
  }
}

// Every floating-point parameter and buffer must be finite: a NaN or inf
// weight would only show up later as NaN coordinates in an output file.
void check_finite_weights(AutoencoderImpl& model, const std::string& path) {
  const auto check = [&](const std::string& kind, const std::string& name, const torch::Tensor& t) {
    if (!t.defined() || !t.is_floating_point()) return;
    const auto bad = t.numel() - torch::isfinite(t).sum().item<std::int64_t>();
    if (bad > 0)
      throw FormatError(path + ": " + kind + " '" + name + "' holds " + std::to_string(bad) +
                        " NaN or infinite values (a corrupt checkpoint, or saved from a diverged run)");
  };
  for (const auto& item : model.named_parameters()) check("parameter", item.key(), item.value());
  for (const auto& item : model.named_buffers()) check("buffer", item.key(), item.value());
}

torch::serialize::InputArchive open_archive(const std::string& path) {
  if (!std::filesystem::exists(path)) throw InputError(path + ": no such file");
  verify_record_checksums(path);
  torch::serialize::InputArchive archive;
  try {
    archive.load_from(path);
  } catch (const std::exception&) {
    throw FormatError(path + ": not a molearn checkpoint (cannot be read as a torch archive)");
  }
  return archive;
}

nlohmann::json read_metadata(torch::serialize::InputArchive& archive, const std::string& path) {
  c10::IValue value;
  if (!archive.try_read("metadata", value) || !value.isString())
    throw FormatError(path + ": not a molearn checkpoint (no metadata)");
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(value.toStringRef());
  } catch (const std::exception& e) {
    throw FormatError(path + ": corrupt checkpoint metadata: " + e.what());
  }
  if (j.value("format", "") != "molearn-checkpoint") throw FormatError(path + ": not a molearn checkpoint");
  if (j.value("version", 0) != kCheckpointVersion)
    throw FormatError(path + ": checkpoint version " + std::to_string(j.value("version", 0)) +
                      ", this molearn reads version " + std::to_string(kCheckpointVersion));
  return j;
}

}  // namespace

void save_checkpoint(const std::string& path, const CheckpointState& state, AutoencoderImpl& model,
                     torch::optim::Optimizer* optimizer) {
  torch::serialize::OutputArchive archive;
  archive.write("metadata", c10::IValue(state_to_json(state).dump()));
  torch::serialize::OutputArchive model_archive;
  model.save(model_archive);
  archive.write("model", model_archive);
  if (optimizer) {
    torch::serialize::OutputArchive optimizer_archive;
    optimizer->save(optimizer_archive);
    archive.write("optimizer", optimizer_archive);
  }
  {
    auto generator = at::detail::getDefaultCPUGenerator();
    std::lock_guard<std::mutex> lock(generator.mutex());
    archive.write("torch_rng", generator.get_state());
  }
  // Written under a temporary name in the same folder, then renamed: the
  // previous checkpoint survives any failure before the rename.
  const std::string temporary = path + ".tmp";
  try {
    archive.save_to(temporary);
  } catch (const std::exception& e) {
    std::error_code ec;
    std::filesystem::remove(temporary, ec);
    throw OutputError(path +
                      ": cannot write checkpoint (disk full or folder not writable); the previous "
                      "checkpoint is kept");
  }
  std::error_code ec;
  std::filesystem::rename(temporary, path, ec);
  if (ec) {
    std::filesystem::remove(temporary, ec);
    throw OutputError(path + ": cannot move the checkpoint into place: " + ec.message());
  }
}

LoadedCheckpoint load_checkpoint(const std::string& path) {
  auto archive = open_archive(path);
  LoadedCheckpoint loaded;
  try {
    loaded.state = state_from_json(read_metadata(archive, path));
  } catch (const Error&) {
    throw;
  } catch (const std::exception& e) {
    throw FormatError(path + ": corrupt checkpoint metadata: " + e.what());
  }
  loaded.model = make_autoencoder(loaded.state.model);
  try {
    torch::serialize::InputArchive model_archive;
    archive.read("model", model_archive);
    loaded.model->load(model_archive);
  } catch (const std::exception& e) {
    throw FormatError(path + ": model weights do not match the '" + loaded.state.model.architecture +
                      "' architecture stored with them (corrupt checkpoint?)");
  }
  check_finite_weights(*loaded.model, path);
  loaded.model->eval();
  return loaded;
}

void restore_training_state(const std::string& path, torch::optim::Optimizer& optimizer) {
  auto archive = open_archive(path);
  try {
    torch::serialize::InputArchive optimizer_archive;
    archive.read("optimizer", optimizer_archive);
    optimizer.load(optimizer_archive);
    torch::Tensor rng;
    archive.read("torch_rng", rng);
    auto generator = at::detail::getDefaultCPUGenerator();
    std::lock_guard<std::mutex> lock(generator.mutex());
    generator.set_state(rng);
  } catch (const std::exception&) {
    // libtorch's messages carry its C++ backtrace: not for users.
    throw FormatError(path + ": cannot restore the optimiser state (a damaged checkpoint, or one of another model)");
  }
}

}  // namespace molearn
