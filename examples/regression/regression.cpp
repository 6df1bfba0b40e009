// Lesson 4: regression. Fits y = x^2 + noise with Linear(1,10) -> ReLU -> Linear(10,1),
// SGD lr 0.5 (the original tutorial uses 0.2), MSE, 100 full-batch steps.
//
// `kiln compile regression.cpp -o regression` traces this model and compiles it into the
// standalone training binary.
#include "kiln/kiln.h"

using namespace kiln;

struct Net : nn::Module {
  nn::Linear hidden{1, 10}, predict{10, 1};
  Net() {
    register_module("hidden", hidden);
    register_module("predict", predict);
  }
  Tensor forward(const Tensor &x) const override { return predict(nn::relu(hidden(x))); }
};

KILN_MODEL(regression, trace) {
  Net net;
  nn::MSELoss mse;
  Tensor x = trace.input("x", {100, 1});
  Tensor y = trace.input("y", {100, 1});
  Tensor prediction = net(x);
  trace.output("prediction", prediction);
  Tensor loss = mse(prediction, y);
  // The same net, forward only, gives the fitted curve after training.
  trace.begin("eval", EntryKind::eval, loss);
  Tensor ex = trace.input("x", {100, 1}), ey = trace.input("y", {100, 1});
  Tensor fit = net(ex);
  trace.output("prediction", fit);
  trace.optimizer(optim::SGD{.lr = 0.5});
  trace.train({.dataset = "regression", .steps = 100, .batch = 100, .log_every = 5, .draw = true});
  return mse(fit, ey);
}
