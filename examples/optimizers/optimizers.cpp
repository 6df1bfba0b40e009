// Lesson 9: comparing update rules. x = linspace(-1, 1, 1000) as a column, y = x^2 +
// 0.1 * normal; Linear(1,20) -> ReLU -> Linear(20,1), MSE, batch 32 shuffled, 12 epochs,
// lr 0.01. Traced once; the build compiles it once per optimizer (kiln compile --optimizer).
// The 1000 % 32 = 8 rows left at the end of each epoch run through their own entry, as
// PyTorch's DataLoader hands them over; an eval entry gives the full-data loss.
#include "kiln/Tensor.h"
#include "kiln/nn.h"

#include <cstdio>

int main(int argc, char **argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s OUT.mlir\n", argv[0]);
    return 2;
  }
  try {
    using namespace kiln::nn;
    const int64_t n = 1000, batch = 32, tail = n % batch;
    kiln::Trace trace("optimizers");
    Sequential net(Linear(1, 20), ReLU(), Linear(20, 1));
    MSELoss mse;
    auto lossOn = [&](int64_t rows) {
      kiln::Tensor prediction = net(trace.input("x", {rows, 1}));
      trace.output("prediction", prediction);
      return mse(prediction, trace.input("y", {rows, 1}));
    };
    kiln::Tensor loss = lossOn(batch);
    trace.begin("forward_tail", kiln::EntryKind::train, loss);
    loss = lossOn(tail);
    trace.begin("eval", kiln::EntryKind::eval, loss);
    loss = lossOn(n);
    trace.optimizer(kiln::optim::SGD{.lr = 0.01});
    trace.train({.dataset = "optimizers", .epochs = 12, .batch = batch, .shuffle = true,
                 .log_every = 32});
    trace.write(argv[1], loss);
  } catch (const kiln::Error &e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
  return 0;
}
