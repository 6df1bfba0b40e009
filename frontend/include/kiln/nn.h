// Layers and losses in the style of torch.nn, built from kiln::Tensor operations.
// Composites (relu, mse) are traced as primitives; only the primitives reach the IR.
#ifndef KILN_NN_H
#define KILN_NN_H

#include "kiln/Tensor.h"

#include <functional>
#include <memory>
#include <optional>
#include <utility>

namespace kiln::nn {

// relu(x) = x where x > 0, else 0. Its gradient at 0 is 0, as PyTorch's.
Tensor relu(const Tensor &x, Where at = Where::here());
// sigmoid(x) = 1 / (1 + exp(-x)): saturates to exactly 0 and 1 in float32, as PyTorch's.
Tensor sigmoid(const Tensor &x, Where at = Where::here());
// tanh(x), saturating to -1 and 1 as PyTorch's.
Tensor tanh(const Tensor &x, Where at = Where::here());
// softplus(x) = log(1 + exp(x)), and x itself above `threshold` (PyTorch: beta 1, threshold 20).
Tensor softplus(const Tensor &x, float threshold = 20.0f, Where at = Where::here());
// gelu(x) = x / 2 * (1 + erf(x / sqrt(2))), PyTorch's exact GELU (approximate='none').
Tensor gelu(const Tensor &x, Where at = Where::here());
// log_softmax over the last dimension, stabilised by subtracting the row maximum.
Tensor log_softmax(const Tensor &x, Where at = Where::here());

namespace functional {
// torch.nn.functional.dropout: in training, each element is zeroed with probability p and the
// others are scaled by 1 / (1 - p) (inverted dropout), the mask drawn anew every step; with
// training false, x itself. p must lie in [0, 1].
Tensor dropout(const Tensor &x, double p = 0.5, bool training = true, Where at = Where::here());
} // namespace functional

// A parameter as a layer declares it; each traced entry resolves it to its own argument.
// Initialised U(-1/sqrt(fan_in), +), or to the constant `init` where a layer gives one
// (BatchNorm's weight 1 and bias 0).
struct Param {
  std::string name;
  Shape shape;
  int64_t fan_in = 0;
  std::optional<double> init;
  Tensor get() const { return Trace::current().parameter(name, shape, fan_in, init); }
};

// Module state that is not trained (torch's register_buffer): BatchNorm's running statistics.
// It starts at `init`; a train entry may give it a new value (set), which the step writes in
// place, as it writes the optimizer's state; eval entries read it. Saved, checkpointed and
// loaded with the parameters, under its state_dict name. `integer` marks a counter
// (num_batches_tracked), stored as int64 in files as PyTorch stores it.
struct Buffer {
  std::string name;
  Shape shape;
  double init = 0.0;
  bool integer = false;
  Tensor get() const { return Trace::current().buffer(name, shape, init, integer); }
  void set(const Tensor &value) const { Trace::current().update(name, value); }
};

// Parameters are named like PyTorch's state_dict: "<module>.<param>".
class Module {
public:
  virtual ~Module() = default;
  std::vector<Param> parameters() const;
  std::vector<Buffer> buffers() const;
  // One line per layer, as PyTorch prints a module; containers indent their children. By
  // default the class's name and its registered children, as PyTorch prints a custom module.
  virtual std::string repr() const;
  // The layer's computation. Ops a user's forward writes record their own lines; a library
  // layer's ops record where the layer was called (Where::current()).
  virtual Tensor forward(const Tensor &x) const = 0;
  Tensor operator()(const Tensor &x, Where at = Where::here()) const {
    CallSite site(at);
    return forward(x);
  }

protected:
  Param &register_parameter(const std::string &name, Shape shape, int64_t fan_in,
                            std::optional<double> init = std::nullopt);
  Buffer &register_buffer(const std::string &name, Shape shape, double init, bool integer = false);
  // Registers `child`, a member of this module, and prefixes its parameter names with
  // `name.`. A copy or a move of this module finds the member in the new object.
  void register_module(const std::string &name, Module &child);
  // Registers a child this module owns on the heap (a Sequential's layers).
  void register_owned(const std::string &name, std::shared_ptr<Module> child);

private:
  void prefix(const std::string &name);
  // This module's own `T`s (params_ or buffers_) and its children's, in order.
  template <typename T> std::vector<T> collect(std::vector<T> Module::*own) const;
  struct Child {
    std::string name;
    std::ptrdiff_t offset = 0;     // a member: its place in this object
    std::shared_ptr<Module> owned; // or a child on the heap
  };
  const Module &child(const Child &c) const;
  Module &child(const Child &c);
  std::vector<Param> params_;
  std::vector<Buffer> buffers_;
  std::vector<Child> children_;
};

// y = x W^T + b with W (out, in) and b (out), initialised like torch.nn.Linear:
// U(-1/sqrt(in), 1/sqrt(in)) for both (the runtime draws them, seeded).
class Linear : public Module {
public:
  Linear(int64_t in_features, int64_t out_features);
  Tensor forward(const Tensor &x) const override;
  std::string repr() const override;
  int64_t in_features, out_features;
};

// torch.nn.Conv2d: weight (out, in, k, k) and, unless `bias` is false, bias (out), both
// U(-1/sqrt(fan_in), +) with fan_in = in * k * k, PyTorch's default initialisation.
class Conv2d : public Module {
public:
  Conv2d(int64_t in_channels, int64_t out_channels, int64_t kernel_size, int64_t stride = 1, int64_t padding = 0,
         int64_t dilation = 1, bool bias = true);
  Tensor forward(const Tensor &x) const override;
  std::string repr() const override;
  int64_t in_channels, out_channels, kernel_size, stride, padding, dilation;
  bool bias;
};

// torch.nn.MaxPool2d / AvgPool2d with a square kernel; the stride defaults to the kernel.
class MaxPool2d : public Module {
public:
  explicit MaxPool2d(int64_t kernel_size, int64_t stride = 0, int64_t padding = 0);
  Tensor forward(const Tensor &x) const override;
  std::string repr() const override;
  int64_t kernel_size, stride, padding;
};

class AvgPool2d : public Module {
public:
  explicit AvgPool2d(int64_t kernel_size, int64_t stride = 0, int64_t padding = 0);
  Tensor forward(const Tensor &x) const override;
  std::string repr() const override;
  int64_t kernel_size, stride, padding;
};

// [N, ...] -> [N, product of the rest], torch.nn.Flatten's default.
class Flatten : public Module {
public:
  Tensor forward(const Tensor &x) const override;
  std::string repr() const override { return "Flatten(start_dim=1, end_dim=-1)"; }
};

// Activation modules print as "ReLU()" and so on: Module's default repr.
class ReLU : public Module {
public:
  Tensor forward(const Tensor &x) const override { return relu(x, Where::current()); }
};

// torch.nn.LeakyReLU: x where x > 0, else negative_slope * x.
class LeakyReLU : public Module {
public:
  explicit LeakyReLU(float negative_slope = 0.01f) : negative_slope(negative_slope) {}
  Tensor forward(const Tensor &x) const override;
  std::string repr() const override;
  float negative_slope;
};

// torch.nn.Softplus with beta 1 and threshold 20.
class Softplus : public Module {
public:
  Tensor forward(const Tensor &x) const override { return softplus(x, 20.0f, Where::current()); }
  std::string repr() const override { return "Softplus(beta=1, threshold=20)"; }
};

class Tanh : public Module {
public:
  Tensor forward(const Tensor &x) const override { return tanh(x, Where::current()); }
};

class Sigmoid : public Module {
public:
  Tensor forward(const Tensor &x) const override { return sigmoid(x, Where::current()); }
};

class GELU : public Module {
public:
  Tensor forward(const Tensor &x) const override { return gelu(x, Where::current()); }
  std::string repr() const override { return "GELU(approximate='none')"; }
};

// torch.nn.Identity: x itself (a placeholder that keeps the other layers' names).
class Identity : public Module {
public:
  Tensor forward(const Tensor &x) const override { return x; }
};

// torch.nn.Dropout: functional::dropout in train entries, the identity in the eval entry.
class Dropout : public Module {
public:
  explicit Dropout(double p = 0.5);
  Tensor forward(const Tensor &x) const override;
  std::string repr() const override;
  double p;
};

// torch.nn.BatchNorm1d (input [N, C] or [N, C, L]) and BatchNorm2d ([N, C, H, W]) with
// PyTorch's semantics. In a train entry: each channel is normalised by its batch mean and
// biased variance, y = (x - mean) / sqrt(var + eps) * weight + bias, and the step updates
// running_mean and running_var (with the unbiased variance) by `momentum`, or by the
// cumulative average 1 / num_batches_tracked when momentum is absent (PyTorch's None), and
// counts num_batches_tracked. In the eval entry the running statistics normalise. Without
// track_running_stats there are no buffers and the batch's statistics normalise in both.
// weight starts at 1 and bias at 0 (affine only).
class BatchNorm : public Module {
public:
  Tensor forward(const Tensor &x) const override;
  std::string repr() const override;
  int64_t num_features;
  double eps;
  std::optional<double> momentum;
  bool affine, track_running_stats;

protected:
  BatchNorm(int spatialDims, int64_t num_features, double eps, std::optional<double> momentum, bool affine,
            bool track_running_stats);

private:
  std::string label() const; // "BatchNorm2d(16)", for messages
  int spatialDims_;          // 1 (BatchNorm1d: no or one spatial dimension, checked per call) or 2
};

class BatchNorm1d : public BatchNorm {
public:
  explicit BatchNorm1d(int64_t num_features, double eps = 1e-5, std::optional<double> momentum = 0.1,
                       bool affine = true, bool track_running_stats = true)
      : BatchNorm(1, num_features, eps, momentum, affine, track_running_stats) {}
};

class BatchNorm2d : public BatchNorm {
public:
  explicit BatchNorm2d(int64_t num_features, double eps = 1e-5, std::optional<double> momentum = 0.1,
                       bool affine = true, bool track_running_stats = true)
      : BatchNorm(2, num_features, eps, momentum, affine, track_running_stats) {}
};

// Layers applied in order; children are named "0", "1", ... as torch.nn.Sequential does.
class Sequential : public Module {
public:
  template <typename... Layers> explicit Sequential(Layers... layers) {
    (appendShared(std::make_shared<Layers>(std::move(layers))), ...);
  }
  // Adds a layer at the end, named by its position (torch.nn.Sequential.append).
  template <typename Layer> Sequential &append(Layer layer) {
    appendShared(std::make_shared<Layer>(std::move(layer)));
    return *this;
  }
  Tensor forward(const Tensor &x) const override;

private:
  void appendShared(std::shared_ptr<Module> layer);
  std::vector<std::shared_ptr<Module>> layers_;
};

// mean((prediction - target)^2), torch.nn.MSELoss with reduction="mean".
struct MSELoss {
  Tensor operator()(const Tensor &prediction, const Tensor &target, Where at = Where::here()) const;
};

// -mean(log_softmax(logits)[i, labels[i]]), torch.nn.CrossEntropyLoss on integer labels.
struct CrossEntropyLoss {
  Tensor operator()(const Tensor &logits, const Tensor &labels, Where at = Where::here()) const;
};

} // namespace kiln::nn

#endif
