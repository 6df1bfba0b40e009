// A user's model: a custom Module with registered children inside a Sequential, trained on
// kiln's built-in regression data.
#include "kiln/kiln.h"

using namespace kiln;

struct Residual : nn::Module {
  nn::Linear inner{16, 16};
  nn::Tanh act;
  Residual() { register_module("inner", inner); }
  Tensor forward(const Tensor &x) const override { return x + act(inner(x)); }
};

KILN_MODEL(mynet, trace) {
  nn::Sequential net(nn::Linear(1, 16), Residual(), nn::Sigmoid(), nn::Linear(16, 1));
  Tensor x = trace.input("x", {100, 1});
  Tensor y = trace.input("y", {100, 1});
  trace.optimizer(optim::SGD{.lr = 0.1});
  trace.train({.dataset = "regression", .steps = 200, .batch = 100, .log_every = 50, .summary = net.repr()});
  return nn::MSELoss()(net(x), y);
}
