// Lesson 10's CNN with the two layers PyTorch users add first: BatchNorm2d after each
// convolution and Dropout(0.25) before the Linear layer. Conv2d(1,16,5,1,2) -> BatchNorm2d(16)
// -> ReLU -> MaxPool2d(2) -> Conv2d(16,32,5,1,2) -> BatchNorm2d(32) -> ReLU -> MaxPool2d(2) ->
// flatten -> Dropout(0.25) -> Linear(32*7*7, 10); CrossEntropyLoss, Adam lr 0.01, batch 50
// shuffled, one epoch of Fashion-MNIST, as lesson 10. Training normalises with each batch's
// statistics and drops a quarter of the features; the evaluations use the running statistics
// and keep every feature.
#include "kiln/kiln.h"

using namespace kiln;
using namespace kiln::nn;

struct CNN : Module {
  Sequential conv1{Conv2d(1, 16, 5, 1, 2), BatchNorm2d(16), ReLU(), MaxPool2d(2)};
  Sequential conv2{Conv2d(16, 32, 5, 1, 2), BatchNorm2d(32), ReLU(), MaxPool2d(2)};
  Flatten flatten;
  Dropout dropout{0.25};
  Linear out{32 * 7 * 7, 10};
  CNN() {
    register_module("conv1", conv1);
    register_module("conv2", conv2);
    register_module("dropout", dropout);
    register_module("out", out);
  }
  Tensor forward(const Tensor &x) const override { return out(dropout(flatten(conv2(conv1(x))))); }
};

KILN_MODEL(cnn_bn, trace) {
  const int64_t batch = 50, evalBatch = 100;
  CNN net;
  CrossEntropyLoss lossFn;
  Tensor x = trace.input("x", {batch, 1, 28, 28});
  Tensor y = trace.labels("y", {batch});
  Tensor loss = lossFn(net(x), y);
  trace.begin("eval", EntryKind::eval, loss);
  Tensor ex = trace.input("x", {evalBatch, 1, 28, 28});
  Tensor ey = trace.labels("y", {evalBatch});
  Tensor logits = net(ex);
  trace.output("logits", logits);
  trace.optimizer(optim::Adam{.lr = 0.01});
  trace.train({.dataset = "mnist",
               .task = "classification",
               .epochs = 1,
               .batch = batch,
               .shuffle = true,
               .log_every = 50,
               .summary = net.repr(),
               .data_dir = "/usr/share/datasets/fashion-mnist",
               .eval_every = 50,
               .eval_subset = 2000,
               .show_predictions = 10,
               .draw = true});
  return lossFn(logits, ey);
}
