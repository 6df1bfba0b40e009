// Lesson 5: classification. Two Gaussian clusters around (2, 2) (label 0) and (-2, -2)
// (label 1); Linear(2,10) -> ReLU -> Linear(10,2), SGD lr 0.02, CrossEntropyLoss, 100
// full-batch steps. The binary prints the loss, the final accuracy and draws the points
// coloured by the predicted class.
#include "kiln/kiln.h"

using namespace kiln;

struct Net : nn::Module {
  nn::Linear hidden{2, 10}, out{10, 2};
  Net() {
    register_module("hidden", hidden);
    register_module("out", out);
  }
  Tensor forward(const Tensor &x) const override { return out(nn::relu(hidden(x))); }
};

KILN_MODEL(classification, trace) {
  const int64_t n = 200;
  Net net;
  nn::CrossEntropyLoss lossFn;
  Tensor x = trace.input("x", {n, 2});
  Tensor loss = lossFn(net(x), trace.labels("y", {n}));
  trace.begin("eval", EntryKind::eval, loss);
  Tensor logits = net(trace.input("x", {n, 2}));
  trace.output("logits", logits);
  trace.optimizer(optim::SGD{.lr = 0.02});
  trace.train(
      {.dataset = "classification", .task = "classification", .steps = 100, .batch = n, .log_every = 10, .draw = true});
  return lossFn(logits, trace.labels("y", {n}));
}
