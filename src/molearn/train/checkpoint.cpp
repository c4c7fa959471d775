#include "molearn/train/checkpoint.hpp"

#include <cstdint>
#include <filesystem>

#include "molearn/core/atomic_file.hpp"
#include "molearn/core/error.hpp"
#include "molearn/data/dataset_file.hpp"
#include "molearn/io/zip_record_checksums.hpp"

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

// Written under a temporary name in the same folder, then renamed: the
// previous checkpoint survives any failure before the rename. libtorch's
// save_to(file) ends the process when a write fails (its zip writer throws
// from a destructor), so the archive is serialised in memory and written
// through AtomicFile, which checks every write.
void write_archive(torch::serialize::OutputArchive& archive, const std::string& path) {
  std::string bytes;
  archive.save_to([&bytes](const void* data, std::size_t size) {
    bytes.append(static_cast<const char*>(data), size);
    return size;
  });
  try {
    AtomicFile file(path);
    file.stream().write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    file.commit();
  } catch (const OutputError& e) {
    throw OutputError(std::string(e.what()) + "; the previous checkpoint is kept");
  }
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
  write_archive(archive, path);
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
