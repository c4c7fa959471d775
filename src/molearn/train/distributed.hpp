// Data-parallel training across processes on PyTorch's own c10d with the Gloo
// backend (CPU, TCP): gradients and batch statistics are summed across ranks.
#pragma once

#include <torch/torch.h>

#include <memory>
#include <vector>

#include "molearn/train/train_options.hpp"

namespace molearn {

class Communicator {
 public:
  virtual ~Communicator() = default;
  virtual int rank() const = 0;
  virtual int world_size() const = 0;
  // Element-wise sum over all ranks, in place.
  virtual void allreduce_sum(std::vector<torch::Tensor>& tensors) = 0;
  // Copies rank `root`'s tensors to every rank, in place.
  virtual void broadcast(std::vector<torch::Tensor>& tensors, int root) = 0;
  virtual void barrier() = 0;
};

// Seconds a rank waits for the others (rank 0's store, then every peer)
// before connect_ranks gives up with an Error.
constexpr int kConnectTimeoutSeconds = 120;

// Connects to the other ranks (rank 0 hosts the TCP store at
// master_address:master_port). Throws InputError for inconsistent options and
// Error when the peers cannot be reached in time.
std::unique_ptr<Communicator> connect_ranks(const DistributedOptions& options);

// Sum over ranks as an autograd function: the gradient of a sum over ranks is
// the sum over ranks of the gradients.
torch::Tensor allreduce_sum_autograd(const torch::Tensor& x, Communicator& communicator);

}  // namespace molearn
