// A probe of molearn's Sinkhorn divergence for the POT oracle
// (tests/oracle/test_sinkhorn_pot.py): reads two point clouds and the options
// as JSON from the file named on the command line, prints the divergence,
// its gradients with respect to both clouds and how the iterations went.
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <vector>

#include "molearn/core/error.hpp"
#include "molearn/train/sinkhorn_divergence.hpp"

namespace {

torch::Tensor cloud(const nlohmann::json& rows) {
  const auto values = rows.get<std::vector<std::vector<double>>>();
  const auto columns = static_cast<std::int64_t>(values.empty() ? 0 : values.front().size());
  auto t = torch::empty({static_cast<std::int64_t>(values.size()), columns}, torch::kFloat64);
  for (std::size_t i = 0; i < values.size(); ++i)
    for (std::int64_t j = 0; j < columns; ++j) t[i][j] = values[i].at(j);
  return t.requires_grad_(true);
}

nlohmann::json rows(const torch::Tensor& t) {
  nlohmann::json out = nlohmann::json::array();
  for (std::int64_t i = 0; i < t.size(0); ++i) {
    std::vector<double> row(t.size(1));
    for (std::int64_t j = 0; j < t.size(1); ++j) row[j] = t[i][j].item<double>();
    out.push_back(row);
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: sinkhorn_probe INPUT.json\n");
    return 2;
  }
  try {
    std::ifstream in(argv[1]);
    const nlohmann::json input = nlohmann::json::parse(in);
    auto x = cloud(input.at("x")), y = cloud(input.at("y"));
    molearn::SinkhornOptions options;
    options.blur = input.at("blur").get<double>();
    options.scaling = input.at("scaling").get<double>();
    molearn::SinkhornReport report;
    const auto divergence = molearn::sinkhorn_divergence(x, y, options, &report);
    divergence.backward();
    const nlohmann::json out = {{"divergence", divergence.item<double>()},
                                {"grad_x", rows(x.grad())},
                                {"grad_y", rows(y.grad())},
                                {"converged", report.converged},
                                {"final_iterations", report.final_iterations}};
    std::printf("%s\n", out.dump().c_str());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "sinkhorn_probe: %s\n", e.what());
    return 1;
  }
}
