// Lesson 10: a CNN on 28x28 grey images in 10 classes (MNIST format; the default data is
// Debian's Fashion-MNIST). Conv2d(1,16,5,1,2) -> ReLU -> MaxPool2d(2) -> Conv2d(16,32,5,1,2)
// -> ReLU -> MaxPool2d(2) -> flatten -> Linear(32*7*7, 10); CrossEntropyLoss, Adam lr 0.01
// (the original tutorial: 0.001), batch 50 shuffled, one epoch. The binary prints the train
// loss and the test accuracy on 2,000 test images every 50 steps, the final accuracy on all
// 10,000, and the first 10 test predictions beside the true labels.
#include "kiln/kiln.h"

using namespace kiln;
using namespace kiln::nn;

struct CNN : Module {
  Sequential conv1{Conv2d(1, 16, 5, 1, 2), ReLU(), MaxPool2d(2)};
  Sequential conv2{Conv2d(16, 32, 5, 1, 2), ReLU(), MaxPool2d(2)};
  Flatten flatten;
  Linear out{32 * 7 * 7, 10};
  CNN() {
    register_module("conv1", conv1);
    register_module("conv2", conv2);
    register_module("out", out);
  }
  Tensor forward(const Tensor &x) const override { return out(flatten(conv2(conv1(x)))); }
};

KILN_MODEL(cnn, trace) {
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
