// torch.nn-style layers and losses as compositions of kiln::Tensor operations.
#include "kiln/nn.h"

namespace kiln::nn {

Tensor relu(const Tensor &x, Where at) {
  Tensor zero = full(*x.trace(), {}, 0.0f, at);
  return where(gt(x, zero, at), x, zero, at);
}

Tensor Module::register_parameter(const std::string &name, Tensor t) {
  params_.push_back({name, t});
  return t;
}

void Module::adopt(const std::string &name, Module &child) {
  for (auto &[childName, t] : child.params_) {
    std::string full = name + "." + childName;
    t.trace()->rename_parameter(t, full);
    params_.push_back({full, t});
  }
}

Linear::Linear(int64_t in, int64_t out) {
  if (in <= 0 || out <= 0)
    throw Error("Linear(" + std::to_string(in) + ", " + std::to_string(out) +
                "): feature counts must be positive");
  Trace &trace = Trace::current();
  weight = register_parameter("weight", trace.parameter("weight", {out, in}, in));
  bias = register_parameter("bias", trace.parameter("bias", {out}, in));
}

Tensor Linear::operator()(const Tensor &x, Where at) const {
  if (x.shape().size() != 2 || x.shape()[1] != weight.shape()[1])
    throw Error(std::string(at.file) + ":" + std::to_string(at.line) + ": Linear(" +
                std::to_string(weight.shape()[1]) + ", " + std::to_string(weight.shape()[0]) +
                ") expects input [batch, " + std::to_string(weight.shape()[1]) +
                "], got a tensor of rank " + std::to_string(x.shape().size()) +
                (x.shape().size() == 2 ? " with " + std::to_string(x.shape()[1]) + " features" : ""));
  return x.matmul(weight.t(at), at) + bias;
}

Tensor MSELoss::operator()(const Tensor &prediction, const Tensor &target, Where at) const {
  if (prediction.shape() != target.shape())
    throw Error(std::string(at.file) + ":" + std::to_string(at.line) +
                ": MSELoss: prediction and target shapes differ");
  Tensor diff = prediction - target;
  return (diff * diff).mean(at);
}

} // namespace kiln::nn
