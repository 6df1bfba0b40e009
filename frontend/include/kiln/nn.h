// Layers and losses in the style of torch.nn, built from kiln::Tensor operations.
// Composites (relu, mse) are traced as primitives; only the primitives reach the IR.
#ifndef KILN_NN_H
#define KILN_NN_H

#include "kiln/Tensor.h"

#include <functional>
#include <utility>

namespace kiln::nn {

// relu(x) = x where x > 0, else 0. Its gradient at 0 is 0, as PyTorch's.
Tensor relu(const Tensor &x, Where at = Where::here());

// Parameters are named like PyTorch's state_dict: "<module>.<param>".
class Module {
public:
  virtual ~Module() = default;
  const std::vector<std::pair<std::string, Tensor>> &named_parameters() const { return params_; }

protected:
  Tensor register_parameter(const std::string &name, Tensor t);
  // Prefixes the child's parameter names with `name.` and adopts them.
  template <typename M> M &register_module(const std::string &name, M &child) {
    adopt(name, child);
    return child;
  }

private:
  void adopt(const std::string &name, Module &child);
  std::vector<std::pair<std::string, Tensor>> params_;
};

// y = x W^T + b with W (out, in) and b (out), initialised like torch.nn.Linear:
// U(-1/sqrt(in), 1/sqrt(in)) for both (the runtime draws them, seeded).
class Linear : public Module {
public:
  Linear(int64_t in_features, int64_t out_features);
  Tensor operator()(const Tensor &x, Where at = Where::here()) const;
  Tensor weight, bias;
};

// mean((prediction - target)^2), torch.nn.MSELoss with reduction="mean".
struct MSELoss {
  Tensor operator()(const Tensor &prediction, const Tensor &target, Where at = Where::here()) const;
};

} // namespace kiln::nn

#endif
