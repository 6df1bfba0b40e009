// A user's nested model: a Sequential of custom Modules that register their own children,
// inside another custom Module; MSELoss on 3 targets, RMSprop, batch 24.
// test/torch/user_models_crosscheck.py trains the same model in PyTorch.
#include "kiln/kiln.h"

using namespace kiln;
using namespace kiln::nn;

struct Block : Module {
  Linear fc;
  LeakyReLU act{0.1f};
  Block(int64_t in, int64_t out) : fc(in, out) {
    register_module("fc", fc);
    register_module("act", act);
  }
  Tensor forward(const Tensor &x) const override { return act(fc(x)); }
};

// x + f(x), f a Sequential of two Blocks.
struct Residual : Module {
  Sequential f{Block(32, 32), Block(32, 32)};
  Residual() { register_module("f", f); }
  Tensor forward(const Tensor &x) const override { return x + f(x); }
};

struct Net : Module {
  Sequential body{Block(10, 32), Residual(), Residual()};
  Linear head{32, 3};
  Net() {
    register_module("body", body);
    register_module("head", head);
  }
  Tensor forward(const Tensor &x) const override { return head(body(x)); }
};

KILN_MODEL(user_nested, trace) {
  Net net;
  Tensor x = trace.input("x", {24, 10});
  Tensor y = trace.input("y", {24, 3});
  trace.optimizer(optim::RMSprop{.lr = 0.001});
  trace.train({.epochs = 1, .batch = 24, .log_every = 5, .summary = net.repr()});
  return MSELoss()(net(x), y);
}
