// The interface every molearn autoencoder implements, and the registry that
// builds one by name.
#pragma once

#include <torch/torch.h>

#include <functional>
#include <memory>
#include <string>
#include <type_traits>
#include <vector>

#include "molearn/models/model_config.hpp"
#include "molearn/models/model_names.hpp"

namespace molearn {

// Coordinates go in and come out channels-first, as in Python molearn:
// [batch, 3, atoms], scaled as in the dataset file.
class AutoencoderImpl : public torch::nn::Module {
 public:
  // [B, 3, N] -> latent codes [B, latent_dim]
  virtual torch::Tensor encode(torch::Tensor x) = 0;
  // [B, latent_dim] -> [B, 3, N], exactly `atoms` points
  virtual torch::Tensor decode(torch::Tensor z) = 0;
  torch::Tensor forward(torch::Tensor x) { return decode(encode(x)); }
  // Data-dependent initialisation: called once before training from
  // scratch with a training frame [1, 3, N] (scaled). Models that need a
  // reference structure keep it (cnn2d-dm starts its MDS there); the
  // others ignore it.
  virtual void initialise_with_example(const torch::Tensor& /*structure*/) {}
  // Throws InputError when this model cannot be trained here (cnn2d-dm:
  // the memory a training step would take). Loading and decoding need
  // less, so the constructor does not refuse what only training cannot do.
  virtual void check_trainable() const {}
  // True for a model that answers in one orientation whatever its input's
  // (cnn2d-dm: its encoder cannot see rotations and its MDS starts from a
  // training frame), so that frames not superposed (prepare without
  // --align) leave an error it cannot learn away.
  virtual bool needs_aligned_frames() const { return false; }
  virtual const ModelConfig& config() const = 0;
};

// The module holder of any autoencoder, as torch::nn's TORCH_MODULE gives
// each concrete model (FoldingNet, Conv1dAutoencoder, SmallFoldingNet):
// shared ownership, `->` and `*` reach the model, empty when nullptr. It
// takes any model's holder or shared_ptr, so a factory can return either.
class Autoencoder : public torch::nn::ModuleHolder<AutoencoderImpl> {
 public:
  /* implicit */ Autoencoder(std::nullptr_t = nullptr) : ModuleHolder(nullptr) {}
  template <typename Impl, typename = std::enable_if_t<std::is_base_of_v<AutoencoderImpl, Impl>>>
  /* implicit */ Autoencoder(std::shared_ptr<Impl> model)
      : ModuleHolder(std::shared_ptr<AutoencoderImpl>(std::move(model))) {}
  template <typename Impl, typename = std::enable_if_t<std::is_base_of_v<AutoencoderImpl, Impl>>>
  /* implicit */ Autoencoder(const torch::nn::ModuleHolder<Impl>& model) : Autoencoder(model.ptr()) {}

  // A const holder still runs its model (encode and decode change no
  // weights but are not const: modules never are), as the shared_ptr did.
  AutoencoderImpl* operator->() const { return ptr().get(); }
  AutoencoderImpl& operator*() const { return *ptr(); }
};

// Builds the architecture `config.architecture` names. Throws InputError for
// an unknown name or unusable sizes.
Autoencoder make_autoencoder(const ModelConfig& config);

// Adds an architecture that make_autoencoder builds by name, so that the
// trainer, checkpoints, generation and analysis work with it as with the
// built-in ones (examples/cpp/custom_model.cpp). The factory gets the
// config with `atoms` and `latent_dim` filled in. Register it in every
// program that loads its checkpoints. Throws InputError when the name is
// empty or taken. Thread-safe.
using AutoencoderFactory = std::function<Autoencoder(const ModelConfig&)>;
void register_autoencoder(const std::string& name, AutoencoderFactory factory);

}  // namespace molearn
