// Adding a term to molearn's training loss from a program that uses it as a
// library (what Python molearn's examples do by subclassing a trainer).
//
// The term penalises CA-CA distances of consecutive residues that stray from
// 3.8 Å in the reconstructions: it is registered as "ca_spacing", switched on
// with TrainOptions::loss_terms (name -> weight), added to every batch's loss
// and logged per epoch as `train_ca_spacing` in log.jsonl. The program trains
// FoldingNet on the 2MI7 ensemble shipped in examples/data with and without
// the term, prints the term's value at the end of each run, and fails
// (exit 1) unless the term lowered it.
//
// Usage: molearn_example_custom_loss EXAMPLES_DATA_FOLDER OUTPUT_FOLDER
#include <cstdio>
#include <filesystem>
#include <map>

#include "molearn/core/error.hpp"
#include "molearn/data/dataset_file.hpp"
#include "molearn/data/prepare.hpp"
#include "molearn/train/loss_terms.hpp"
#include "molearn/train/trainer.hpp"

namespace {

// Mean squared deviation (Å²) of consecutive CA-CA distances from 3.8 Å.
torch::Tensor ca_spacing(const std::vector<std::int64_t>& ca, const molearn::LossInputs& in) {
  const auto index = torch::tensor(ca, torch::kInt64);
  const torch::Tensor xyz = in.reconstruction.index_select(2, index) * in.angstrom_per_unit;  // [B, 3, CA]
  const torch::Tensor steps = xyz.narrow(2, 1, xyz.size(2) - 1) - xyz.narrow(2, 0, xyz.size(2) - 1);
  return (steps.norm(2, 1) - 3.8).pow(2).mean();
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: %s EXAMPLES_DATA_FOLDER OUTPUT_FOLDER\n", argv[0]);
    return 2;
  }
  const std::filesystem::path data = argv[1], out = argv[2];
  try {
    molearn::PrepareOptions prepare;
    prepare.inputs = {(data / "2mi7_heavy.dcd").string()};
    prepare.topology = (data / "2mi7_heavy_topology.pdb").string();
    prepare.align = true;
    prepare.valid_fraction = 0.25;
    std::filesystem::create_directories(out);
    const std::string dataset_path = (out / "2mi7.mlds").string();
    const molearn::Dataset dataset = molearn::prepare_dataset(prepare);
    molearn::write_dataset(dataset, dataset_path);

    // The CA atoms of the dataset's topology, in chain order.
    std::vector<std::int64_t> ca;
    for (std::size_t i = 0; i < dataset.topology.atom_count(); ++i)
      if (dataset.topology.atom(i).name == "CA") ca.push_back(static_cast<std::int64_t>(i));
    molearn::register_loss_term("ca_spacing", [ca](const molearn::LossInputs& in) { return ca_spacing(ca, in); });

    std::map<double, double> deviation;  // by weight
    for (const double weight : {0.0, 0.1}) {
      molearn::TrainOptions options;
      options.dataset = dataset_path;
      options.output_dir = (out / (weight > 0 ? "run-with-term" : "run-without")).string();
      options.max_epochs = 4;
      options.threads = 1;
      options.seed = 1;
      options.overwrite = true;
      options.loss_terms["ca_spacing"] = weight;  // weight 0: logged, not optimised
      double last = 0, rmsd = 0;
      molearn::TrainObserver observer;
      observer.on_epoch = [&](const molearn::EpochRecord& r) {
        last = r.loss_terms.at("ca_spacing");
        rmsd = r.valid_rmsd;
      };
      molearn::train_autoencoder(options, observer);
      std::printf("weight %.1f: CA-CA spacing deviation %.3f A^2 in the last epoch, validation RMSD %.2f A\n", weight,
                  last, rmsd);
      deviation[weight] = last;
    }
    // The test suite runs this example: the term must have done its job.
    if (!(deviation[0.1] < deviation[0.0])) {
      std::fprintf(stderr, "the term did not lower the CA-CA spacing deviation\n");
      return 1;
    }
  } catch (const molearn::Error& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
  return 0;
}
