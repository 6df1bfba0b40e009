// Lesson 4: regression. Fits y = x^2 + noise with Linear(1,10) -> ReLU -> Linear(10,1),
// SGD lr 0.5 (the original tutorial uses 0.2), MSE, 100 full-batch steps.
//
// This program traces the model and writes it as kiln IR; `kiln compile` turns that into the
// standalone training binary.
#include "kiln/Tensor.h"
#include "kiln/nn.h"

#include <cstdio>

struct Net : kiln::nn::Module {
  kiln::nn::Linear hidden{1, 10}, predict{10, 1};
  Net() {
    register_module("hidden", hidden);
    register_module("predict", predict);
  }
  kiln::Tensor forward(const kiln::Tensor &x, kiln::Where at) const override {
    return predict(kiln::nn::relu(hidden(x, at), at), at);
  }
  std::string repr() const override { return "Net(hidden, predict)"; }
};

int main(int argc, char **argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s OUT.mlir\n", argv[0]);
    return 2;
  }
  try {
    kiln::Trace trace("regression");
    kiln::Tensor x = trace.input("x", {100, 1});
    kiln::Tensor y = trace.input("y", {100, 1});
    Net net;
    kiln::Tensor prediction = net(x);
    kiln::Tensor loss = kiln::nn::MSELoss()(prediction, y);
    trace.output("prediction", prediction);
    // The same net, forward only, gives the fitted curve after training.
    trace.begin("eval", kiln::EntryKind::eval, loss);
    kiln::Tensor ex = trace.input("x", {100, 1}), ey = trace.input("y", {100, 1});
    kiln::Tensor fit = net(ex);
    trace.output("prediction", fit);
    trace.optimizer(kiln::optim::SGD{.lr = 0.5});
    trace.train({.dataset = "regression", .steps = 100, .batch = 100, .log_every = 5});
    trace.write(argv[1], kiln::nn::MSELoss()(fit, ey));
  } catch (const kiln::Error &e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
  return 0;
}
