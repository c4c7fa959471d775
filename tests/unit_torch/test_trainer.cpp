#include <gtest/gtest.h>

#include <unistd.h>
#include <algorithm>

#include <cmath>
#include <cstring>
#include <fstream>
#include <functional>
#include <iterator>
#include <string>
#include <utility>
#include <vector>

#include "molearn/core/error.hpp"
#include "molearn/data/dataset_file.hpp"
#include "molearn/data/prepare.hpp"
#include "molearn/io/pdb_reader.hpp"
#include "molearn/train/checkpoint.hpp"
#include "molearn/train/generation.hpp"
#include "molearn/train/trainer.hpp"
#include "test_support.hpp"

using namespace molearn;

namespace {

// A small synthetic protein-like dataset: a helix of `atoms` points bending
// by a frame-dependent angle, with a little noise.
Dataset bending_helix(std::size_t frames, std::size_t atoms, bool poison = false) {
  Dataset d;
  std::vector<Atom> list;
  for (std::size_t i = 0; i < atoms; ++i) {
    Atom a;
    a.name = "CA";
    a.res_name = "ALA";
    a.res_seq = static_cast<int>(i + 1);
    a.chain = "A";
    a.element = "C";
    list.push_back(a);
  }
  d.topology = Topology(list);
  d.termini.resize(atoms);
  d.frame_count = frames;
  for (std::size_t f = 0; f < frames; ++f) {
    const double bend = 0.6 * static_cast<double>(f) / static_cast<double>(frames);
    for (std::size_t i = 0; i < atoms; ++i) {
      const double t = static_cast<double>(i);
      const double x = 2.3 * std::cos(1.7 * t), y = 2.3 * std::sin(1.7 * t), z = 1.5 * t - 0.75 * atoms;
      d.coords.push_back(static_cast<float>((x * std::cos(bend) - z * std::sin(bend)) / 10.0));
      d.coords.push_back(static_cast<float>(y / 10.0));
      d.coords.push_back(static_cast<float>((x * std::sin(bend) + z * std::cos(bend)) / 10.0));
    }
  }
  // A huge coordinate makes the loss overflow to infinity (NaN coordinates are
  // refused when the dataset is read).
  if (poison)
    for (std::size_t f = 0; f < frames; ++f) d.coords[f * atoms * 3 + 5] = 1e30f;
  d.mean = 0;
  d.std = 10;
  split_dataset(d, 0.25, 1);
  d.sources = {"synthetic"};
  d.topology_source = "synthetic";
  for (std::size_t f = 0; f < frames; ++f) d.origins.push_back({0, f});
  return d;
}

TrainOptions quick_options(const std::string& dataset, const std::string& out, const std::string& model) {
  TrainOptions o;
  o.dataset = dataset;
  o.output_dir = out;
  o.model.architecture = model;
  o.max_epochs = 4;
  o.batch_size = 4;
  o.threads = 1;
  o.seed = 11;
  o.patience = 0;
  return o;
}

std::vector<nlohmann::json> history_of(const std::string& checkpoint) {
  auto loaded = load_checkpoint(checkpoint);
  return loaded.state.history.get<std::vector<nlohmann::json>>();
}

class TrainerTest : public ::testing::TestWithParam<std::string> {};

}  // namespace

TEST_P(TrainerTest, LearnsWritesCheckpointsAndLog) {
  test::TempDir dir;
  write_dataset(bending_helix(16, 40), dir.file("d.mlds"));
  auto options = quick_options(dir.file("d.mlds"), dir.file("run"), GetParam());
  options.max_epochs = 6;
  int epochs_seen = 0;
  TrainObserver observer;
  observer.on_epoch = [&](const EpochRecord&) { ++epochs_seen; };
  const TrainResult result = train_autoencoder(options, observer);
  EXPECT_EQ(result.epochs_completed, 6);
  EXPECT_EQ(epochs_seen, 6);
  const auto history = history_of(result.last_checkpoint);
  ASSERT_EQ(history.size(), 6u);
  EXPECT_LT(history.back()["train_loss"].get<double>(), history.front()["train_loss"].get<double>());
  EXPECT_GT(result.best_valid_rmsd, 0.0);
  std::ifstream log(dir.file("run/log.jsonl"));
  std::string line;
  int lines = 0;
  while (std::getline(log, line)) {
    auto record = nlohmann::json::parse(line);
    EXPECT_EQ(record["epoch"].get<int>(), ++lines);
    EXPECT_TRUE(record.contains("valid_rmsd"));
  }
  EXPECT_EQ(lines, 6);
  EXPECT_TRUE(std::filesystem::exists(result.best_checkpoint));
}

TEST_P(TrainerTest, SameSeedSameLosses) {
  test::TempDir dir;
  write_dataset(bending_helix(12, 40), dir.file("d.mlds"));
  auto a = quick_options(dir.file("d.mlds"), dir.file("a"), GetParam());
  auto b = quick_options(dir.file("d.mlds"), dir.file("b"), GetParam());
  a.max_epochs = b.max_epochs = 3;
  train_autoencoder(a);
  train_autoencoder(b);
  const auto ha = history_of(dir.file("a/last.ckpt")), hb = history_of(dir.file("b/last.ckpt"));
  for (std::size_t e = 0; e < 3; ++e) {
    EXPECT_EQ(ha[e]["train_loss"].get<double>(), hb[e]["train_loss"].get<double>());
    EXPECT_EQ(ha[e]["valid_loss"].get<double>(), hb[e]["valid_loss"].get<double>());
  }
}

TEST_P(TrainerTest, ResumeContinuesBitForBit) {
  test::TempDir dir;
  write_dataset(bending_helix(12, 40), dir.file("d.mlds"));
  auto straight = quick_options(dir.file("d.mlds"), dir.file("straight"), GetParam());
  train_autoencoder(straight);
  auto split = quick_options(dir.file("d.mlds"), dir.file("split"), GetParam());
  split.max_epochs = 2;
  train_autoencoder(split);
  split.max_epochs = 4;
  split.resume = true;
  train_autoencoder(split);
  const auto a = history_of(dir.file("straight/last.ckpt")), b = history_of(dir.file("split/last.ckpt"));
  ASSERT_EQ(a.size(), 4u);
  ASSERT_EQ(b.size(), 4u);
  for (std::size_t e = 0; e < 4; ++e) {
    EXPECT_EQ(a[e]["train_loss"].get<double>(), b[e]["train_loss"].get<double>()) << "epoch " << e + 1;
    EXPECT_EQ(a[e]["valid_loss"].get<double>(), b[e]["valid_loss"].get<double>()) << "epoch " << e + 1;
  }
}

INSTANTIATE_TEST_SUITE_P(Models, TrainerTest, ::testing::Values("foldingnet", "conv1d", "cnn2d-dm"));

// cnn2d-dm keeps the first training frame (never a validation one) as the
// start of its MDS; the checkpoint carries it.
TEST(Trainer, CheckpointKeepsTheDistanceMatrixModelsTrainingFrame) {
  test::TempDir dir;
  const Dataset data = bending_helix(12, 30);
  write_dataset(data, dir.file("d.mlds"));
  auto options = quick_options(dir.file("d.mlds"), dir.file("run"), "cnn2d-dm");
  options.max_epochs = 1;
  train_autoencoder(options);
  auto loaded = load_checkpoint(dir.file("run/best.ckpt"));
  const auto reference = loaded.model->named_buffers()["reference"];
  const std::size_t frame = data.train_indices.front();
  const auto expected = torch::from_blob(const_cast<float*>(data.frame(frame).data()), {30, 3}).t();
  EXPECT_TRUE(torch::allclose(reference, expected)) << "frame " << frame;
  EXPECT_EQ(std::count(data.valid_indices.begin(), data.valid_indices.end(), frame), 0);
}

TEST(Trainer, ResumeWithAnotherArchitectureIsRejected) {
  test::TempDir dir;
  write_dataset(bending_helix(8, 30), dir.file("d.mlds"));
  auto options = quick_options(dir.file("d.mlds"), dir.file("run"), "conv1d");
  options.max_epochs = 1;
  train_autoencoder(options);
  options.model.architecture = "foldingnet";
  options.resume = true;
  options.max_epochs = 2;
  try {
    train_autoencoder(options);
    FAIL() << "expected InputError";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("conv1d"), std::string::npos) << e.what();
  }
}

TEST(Trainer, NonFiniteLossStopsAndKeepsLastGoodCheckpoint) {
  test::TempDir dir;
  write_dataset(bending_helix(8, 30), dir.file("d.mlds"));
  auto options = quick_options(dir.file("d.mlds"), dir.file("run"), "conv1d");
  options.max_epochs = 2;
  train_autoencoder(options);
  write_dataset(bending_helix(8, 30, /*poison=*/true), dir.file("d.mlds"));
  options.resume = true;
  options.max_epochs = 4;
  try {
    train_autoencoder(options);
    FAIL() << "expected TrainingDivergedError";
  } catch (const TrainingDivergedError& e) {
    EXPECT_NE(std::string(e.what()).find("epoch 3"), std::string::npos) << e.what();
  }
  EXPECT_EQ(load_checkpoint(dir.file("run/last.ckpt")).state.epoch, 2);
}

TEST(Trainer, FailedCheckpointWriteKeepsThePreviousOne) {
  test::TempDir dir;
  write_dataset(bending_helix(8, 30), dir.file("d.mlds"));
  auto options = quick_options(dir.file("d.mlds"), dir.file("run"), "conv1d");
  options.max_epochs = 1;
  train_autoencoder(options);
  // A folder where the temporary checkpoint would go (AtomicFile's name:
  // the final one, ".tmp." and the process id) makes the write fail, as a
  // full disk would.
  std::filesystem::create_directories(dir.file("run/last.ckpt.tmp." + std::to_string(::getpid()) + "/blocker"));
  options.resume = true;
  options.max_epochs = 2;
  EXPECT_THROW(train_autoencoder(options), OutputError);
  EXPECT_EQ(load_checkpoint(dir.file("run/last.ckpt")).state.epoch, 1);
}

TEST(Trainer, EarlierRunIsNeverOverwrittenSilently) {
  test::TempDir dir;
  write_dataset(bending_helix(8, 30), dir.file("d.mlds"));
  auto options = quick_options(dir.file("d.mlds"), dir.file("run"), "conv1d");
  options.max_epochs = 2;
  train_autoencoder(options);
  std::ifstream before_file(dir.file("run/last.ckpt"), std::ios::binary);
  const std::string before{std::istreambuf_iterator<char>(before_file), std::istreambuf_iterator<char>()};
  options.max_epochs = 1;
  options.seed = 12;
  try {
    train_autoencoder(options);
    FAIL() << "expected InputError";
  } catch (const InputError& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find("earlier run"), std::string::npos) << message;
    EXPECT_NE(message.find("--overwrite"), std::string::npos) << message;
    EXPECT_NE(message.find("--resume"), std::string::npos) << message;
  }
  std::ifstream after_file(dir.file("run/last.ckpt"), std::ios::binary);
  EXPECT_EQ(before, std::string(std::istreambuf_iterator<char>(after_file), std::istreambuf_iterator<char>()));
  EXPECT_EQ(history_of(dir.file("run/last.ckpt")).size(), 2u);
  // --overwrite replaces it: nothing of the earlier run is left.
  options.overwrite = true;
  train_autoencoder(options);
  EXPECT_EQ(history_of(dir.file("run/last.ckpt")).size(), 1u);
  EXPECT_EQ(history_of(dir.file("run/best.ckpt")).size(), 1u);
  std::ifstream log(dir.file("run/log.jsonl"));
  std::string line;
  int lines = 0;
  while (std::getline(log, line)) ++lines;
  EXPECT_EQ(lines, 1);
}

// Without validation frames (prepare --valid 0) training runs: the training
// loss picks the best epoch, and no validation value is invented.
TEST(Trainer, DatasetWithoutValidationFramesTrainsOnTheTrainingLoss) {
  test::TempDir dir;
  Dataset d = bending_helix(8, 30);
  split_dataset(d, 0.0, 1);
  write_dataset(d, dir.file("d.mlds"));
  std::vector<std::string> messages;
  TrainObserver observer;
  observer.on_message = [&](const std::string& m) { messages.push_back(m); };
  const TrainResult result = train_autoencoder(quick_options(dir.file("d.mlds"), dir.file("run"), "conv1d"), observer);
  EXPECT_FALSE(result.has_validation);
  EXPECT_TRUE(std::isnan(result.best_valid_rmsd));
  const auto history = history_of(dir.file("run/last.ckpt"));
  ASSERT_EQ(history.size(), 4u);
  int lowest = 0;
  double lowest_loss = INFINITY;
  for (const auto& r : history) {
    EXPECT_FALSE(r.contains("valid_loss") || r.contains("valid_rmsd")) << r.dump();
    if (r.at("train_loss").get<double>() < lowest_loss) {
      lowest_loss = r.at("train_loss").get<double>();
      lowest = r.at("epoch").get<int>();
    }
  }
  EXPECT_EQ(result.best_epoch, lowest);
  EXPECT_DOUBLE_EQ(result.best_valid_loss, lowest_loss);
  bool warned = false;
  for (const auto& m : messages) warned = warned || m.find("no validation frames") != std::string::npos;
  EXPECT_TRUE(warned);
}

TEST(Generate, DecodesLatentPointsAndInterpolates) {
  test::TempDir dir;
  write_dataset(bending_helix(8, 30), dir.file("d.mlds"));
  auto options = quick_options(dir.file("d.mlds"), dir.file("run"), "conv1d");
  options.max_epochs = 1;
  train_autoencoder(options);
  GenerateOptions g;
  g.checkpoint = dir.file("run/best.ckpt");
  g.output = dir.file("points.pdb");
  g.latent_points = {{0.1, 0.2}, {0.5, -0.5}, {0, 0}};
  g.threads = 1;
  EXPECT_EQ(generate_structures(g).structures, 3u);
  PdbReader points(g.output);
  EXPECT_EQ(points.atom_count(), 30u);

  g.latent_points = {{0.1, 0.2, 0.3}};
  g.output = dir.file("bad.pdb");
  EXPECT_THROW(generate_structures(g), InputError);
  EXPECT_FALSE(std::filesystem::exists(g.output));

  g.latent_points.clear();
  g.interpolate = std::make_pair(std::size_t{0}, std::size_t{7});
  g.steps = 5;
  g.output = dir.file("path.pdb");
  const auto result = generate_structures(g);
  ASSERT_EQ(result.structures, 5u);
  // A straight line: the middle point is the mean of the ends.
  for (std::size_t k = 0; k < 2; ++k)
    EXPECT_NEAR(result.latent_points[2][k], 0.5 * (result.latent_points[0][k] + result.latent_points[4][k]), 1e-5);
  g.interpolate = std::make_pair(std::size_t{0}, std::size_t{8});
  EXPECT_THROW(generate_structures(g), InputError);
}

TEST(Generate, ParsesLatentPoints) {
  EXPECT_EQ(parse_latent_point("0.5, -1"), (std::vector<double>{0.5, -1.0}));
  EXPECT_THROW(parse_latent_point("0.5,x"), InputError);
  EXPECT_THROW(parse_latent_point("nan,1"), InputError);
  EXPECT_THROW(parse_latent_point(""), InputError);
}

TEST(Trainer, OptionsOutOfRangeAreRefusedBeforeTheDatasetIsRead) {
  test::TempDir dir;
  // The dataset does not exist: each refusal must come before it is read.
  const auto base = quick_options(dir.file("missing.mlds"), dir.file("run"), "conv1d");
  const std::vector<std::pair<std::function<void(TrainOptions&)>, std::string>> cases = {
      {[](TrainOptions& o) { o.physics.scale = -1; }, "--physics-scale"},
      {[](TrainOptions& o) { o.physics.scale = std::nan(""); }, "--physics-scale"},
      {[](TrainOptions& o) { o.physics.weight = std::nan(""); }, "--physics-weight"},
      {[](TrainOptions& o) { o.physics.weight = -0.5; }, "--physics-weight"},
      {[](TrainOptions& o) { o.physics.start_epoch = -3; }, "--physics-start"},
      {[](TrainOptions& o) { o.distributed.world_size = 0; }, "--world-size"},
      {[](TrainOptions& o) { o.distributed.rank = 2; }, "rank 2"},
      {[](TrainOptions& o) { o.threads = -3; }, "--threads"},
      {[](TrainOptions& o) { o.learning_rate = INFINITY; }, "--lr"},
  };
  for (const auto& [change, fragment] : cases) {
    TrainOptions options = base;
    change(options);
    try {
      train_autoencoder(options);
      ADD_FAILURE() << "accepted: " << fragment;
    } catch (const InputError& e) {
      EXPECT_NE(std::string(e.what()).find(fragment), std::string::npos) << e.what();
      EXPECT_EQ(std::string(e.what()).find("missing.mlds"), std::string::npos) << e.what();
    }
  }
  EXPECT_FALSE(std::filesystem::exists(dir.file("run")));
}

namespace {

std::string read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// The offset of the first byte of `value` (a float32 of the model) in the file.
std::size_t offset_of_float(const std::string& bytes, float value) {
  std::string pattern(sizeof value, '\0');
  std::memcpy(pattern.data(), &value, sizeof value);
  return bytes.find(pattern);
}

}  // namespace

TEST(Checkpoint, FlippedWeightBytesAreDetected) {
  test::TempDir dir;
  write_dataset(bending_helix(8, 30), dir.file("d.mlds"));
  auto options = quick_options(dir.file("d.mlds"), dir.file("run"), "conv1d");
  options.max_epochs = 1;
  train_autoencoder(options);
  const std::string path = dir.file("run/last.ckpt");
  auto loaded = load_checkpoint(path);  // intact: loads
  const float weight = loaded.model->parameters().front().flatten()[0].item<float>();
  std::string bytes = read_bytes(path);
  const std::size_t at = offset_of_float(bytes, weight);
  ASSERT_NE(at, std::string::npos);
  bytes[at + 2] = static_cast<char>(bytes[at + 2] ^ 0x10);  // one bit of one weight
  const std::string damaged = dir.file("damaged.ckpt");
  test::write_text(damaged, bytes);
  for (int attempt = 0; attempt < 2; ++attempt) {
    try {
      if (attempt == 0)
        load_checkpoint(damaged);
      else {
        auto model = make_autoencoder(loaded.state.model);
        torch::optim::AdamW optimizer(model->parameters());
        restore_training_state(damaged, optimizer);
      }
      ADD_FAILURE() << "a flipped weight byte loaded silently";
    } catch (const FormatError& e) {
      const std::string message = e.what();
      EXPECT_NE(message.find(damaged), std::string::npos) << message;
      EXPECT_NE(message.find("checksum"), std::string::npos) << message;
    }
  }
  // A file cut short is refused as well, and so is a folder.
  test::write_text(damaged, read_bytes(path).substr(0, bytes.size() / 2));
  EXPECT_THROW(load_checkpoint(damaged), FormatError);
  EXPECT_THROW(load_checkpoint(dir.file("run")), InputError);
}

TEST(Checkpoint, NonFiniteWeightsAreRefusedNamingTheParameter) {
  test::TempDir dir;
  write_dataset(bending_helix(8, 30), dir.file("d.mlds"));
  auto options = quick_options(dir.file("d.mlds"), dir.file("run"), "conv1d");
  options.max_epochs = 1;
  train_autoencoder(options);
  auto loaded = load_checkpoint(dir.file("run/best.ckpt"));
  const auto named = loaded.model->named_parameters();
  const std::string name = named.begin()->key();
  {
    torch::NoGradGuard no_grad;
    named.begin()->value().flatten()[3] = std::nanf("");
  }
  const std::string path = dir.file("nan.ckpt");
  save_checkpoint(path, loaded.state, *loaded.model, nullptr);  // consistent checksums, NaN inside
  try {
    load_checkpoint(path);
    FAIL() << "a NaN weight loaded silently";
  } catch (const FormatError& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find(path), std::string::npos) << message;
    EXPECT_NE(message.find("'" + name + "'"), std::string::npos) << message;
    EXPECT_NE(message.find("NaN"), std::string::npos) << message;
  }
}
