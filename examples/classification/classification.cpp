// Lesson 5: classification. Two Gaussian clusters around (2, 2) (label 0) and (-2, -2)
// (label 1); Linear(2,10) -> ReLU -> Linear(10,2), SGD lr 0.02, CrossEntropyLoss, 100
// full-batch steps. The binary prints the loss, the final accuracy and draws the points
// coloured by the predicted class.
#include "kiln/Tensor.h"
#include "kiln/nn.h"

#include <cstdio>

struct Net : kiln::nn::Module {
  kiln::nn::Linear hidden{2, 10}, out{10, 2};
  Net() {
    register_module("hidden", hidden);
    register_module("out", out);
  }
  kiln::Tensor forward(const kiln::Tensor &x, kiln::Where at) const override {
    return out(kiln::nn::relu(hidden(x, at), at), at);
  }
  std::string repr() const override { return "Net(hidden, out)"; }
};

int main(int argc, char **argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s OUT.mlir\n", argv[0]);
    return 2;
  }
  try {
    const int64_t n = 200;
    kiln::Trace trace("classification");
    Net net;
    kiln::nn::CrossEntropyLoss lossFn;
    kiln::Tensor x = trace.input("x", {n, 2});
    kiln::Tensor loss = lossFn(net(x), trace.labels("y", {n}));
    trace.begin("eval", kiln::EntryKind::eval, loss);
    kiln::Tensor ex = trace.input("x", {n, 2});
    kiln::Tensor logits = net(ex);
    trace.output("logits", logits);
    trace.optimizer(kiln::optim::SGD{.lr = 0.02});
    trace.train({.dataset = "classification", .task = "classification", .steps = 100,
                 .batch = n, .log_every = 10});
    trace.write(argv[1], lossFn(logits, trace.labels("y", {n})));
  } catch (const kiln::Error &e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
  return 0;
}
