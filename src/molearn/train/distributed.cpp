#include "molearn/train/distributed.hpp"

#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>

#include <chrono>
#include <string>

#include "molearn/core/error.hpp"

namespace molearn {

namespace {

constexpr std::chrono::seconds kConnectTimeout{kConnectTimeoutSeconds};

class GlooCommunicator : public Communicator {
 public:
  GlooCommunicator(const DistributedOptions& o) : rank_(o.rank), world_size_(o.world_size) {
    c10d::TCPStoreOptions store_options;
    store_options.port = static_cast<std::uint16_t>(o.master_port);
    store_options.isServer = o.rank == 0;
    store_options.numWorkers = static_cast<std::size_t>(o.world_size);
    store_options.timeout = kConnectTimeout;
    auto store = c10::make_intrusive<c10d::TCPStore>(o.master_address, store_options);
    auto options = c10d::ProcessGroupGloo::Options::create(kConnectTimeout);
    options->devices.push_back(c10d::ProcessGroupGloo::createDeviceForHostname(o.master_address));
    options->threads = 1;
    group_ = c10::make_intrusive<c10d::ProcessGroupGloo>(store, o.rank, o.world_size, options);
  }

  int rank() const override { return rank_; }
  int world_size() const override { return world_size_; }

  void allreduce_sum(std::vector<torch::Tensor>& tensors) override {
    if (tensors.empty()) return;
    // One flat buffer: a single collective instead of one per tensor.
    std::vector<torch::Tensor> flat{torch::cat(flatten(tensors))};
    group_->allreduce(flat)->wait();
    unflatten(flat[0], tensors);
  }

  void broadcast(std::vector<torch::Tensor>& tensors, int root) override {
    if (tensors.empty()) return;
    std::vector<torch::Tensor> flat{torch::cat(flatten(tensors))};
    c10d::BroadcastOptions options;
    options.rootRank = root;
    group_->broadcast(flat, options)->wait();
    unflatten(flat[0], tensors);
  }

  void barrier() override { group_->barrier()->wait(); }

 private:
  static std::vector<torch::Tensor> flatten(const std::vector<torch::Tensor>& tensors) {
    std::vector<torch::Tensor> parts;
    for (const auto& t : tensors) parts.push_back(t.detach().reshape({-1}));
    return parts;
  }
  static void unflatten(const torch::Tensor& flat, std::vector<torch::Tensor>& tensors) {
    torch::NoGradGuard no_grad;
    std::int64_t offset = 0;
    for (auto& t : tensors) {
      t.copy_(flat.slice(0, offset, offset + t.numel()).view_as(t));
      offset += t.numel();
    }
  }

  int rank_;
  int world_size_;
  c10::intrusive_ptr<c10d::ProcessGroupGloo> group_;
};

class AllReduceSum : public torch::autograd::Function<AllReduceSum> {
 public:
  static torch::Tensor forward(torch::autograd::AutogradContext* ctx, torch::Tensor x, Communicator* communicator) {
    ctx->saved_data["communicator"] = reinterpret_cast<std::int64_t>(communicator);
    std::vector<torch::Tensor> tensors{x.clone()};
    communicator->allreduce_sum(tensors);
    return tensors[0];
  }
  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grad) {
    auto* communicator = reinterpret_cast<Communicator*>(ctx->saved_data["communicator"].toInt());
    std::vector<torch::Tensor> tensors{grad[0].clone()};
    communicator->allreduce_sum(tensors);
    return {tensors[0], torch::Tensor()};
  }
};

}  // namespace

std::unique_ptr<Communicator> connect_ranks(const DistributedOptions& options) {
  if (options.world_size < 1 || options.rank < 0 || options.rank >= options.world_size)
    throw InputError("distributed training: rank " + std::to_string(options.rank) + " is not in [0, world size " +
                     std::to_string(options.world_size) + ")");
  if (options.master_port < 1 || options.master_port > 65535)
    throw InputError("distributed training: port " + std::to_string(options.master_port) + " is out of range");
  try {
    return std::make_unique<GlooCommunicator>(options);
  } catch (const std::exception& e) {
    // libtorch's message may go on with a C++ backtrace: keep its first line.
    std::string why = e.what();
    why = why.substr(0, why.find('\n'));
    throw Error("distributed training: rank " + std::to_string(options.rank) + " cannot connect to " +
                options.master_address + ":" + std::to_string(options.master_port) + " within " +
                std::to_string(kConnectTimeoutSeconds) + " s (are all " + std::to_string(options.world_size) +
                " ranks started, with the same --master?): " + why);
  }
}

torch::Tensor allreduce_sum_autograd(const torch::Tensor& x, Communicator& communicator) {
  return AllReduceSum::apply(x, &communicator);
}

}  // namespace molearn
