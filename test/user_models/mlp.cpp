// A user's MLP: Tanh, Sigmoid and GELU modules, CrossEntropyLoss on 5 classes, Adam, batch 32.
// test/torch/user_models_crosscheck.py trains the same model in PyTorch.
#include "kiln/kiln.h"

using namespace kiln;
using namespace kiln::nn;

KILN_MODEL(user_mlp, trace) {
  Sequential net(Linear(20, 64), Tanh(), Linear(64, 32), Sigmoid(), Linear(32, 32), GELU(), Linear(32, 5));
  Tensor x = trace.input("x", {32, 20});
  Tensor y = trace.labels("y", {32});
  trace.optimizer(optim::Adam{.lr = 0.01});
  trace.train({.epochs = 1, .batch = 32, .log_every = 5, .summary = net.repr()});
  return CrossEntropyLoss()(net(x), y);
}
