// Lesson 9: comparing update rules. x = linspace(-1, 1, 1000) as a column, y = x^2 +
// 0.1 * normal; Linear(1,20) -> ReLU -> Linear(20,1), MSE, batch 32 shuffled, 12 epochs,
// lr 0.01. Traced once; the build compiles it once per optimizer (kiln compile --optimizer).
// kiln compiles a step for the 1000 % 32 = 8 rows left at the end of each epoch, as PyTorch's
// DataLoader hands them over; an eval entry gives the full-data loss.
#include "kiln/kiln.h"

using namespace kiln;

KILN_MODEL(optimizers, trace) {
  using namespace nn;
  const int64_t n = 1000, batch = 32;
  Sequential net(Linear(1, 20), ReLU(), Linear(20, 1));
  MSELoss mse;
  auto lossOn = [&](int64_t rows) {
    Tensor x = trace.input("x", {rows, 1});
    Tensor prediction = net(x);
    trace.output("prediction", prediction);
    return mse(prediction, trace.input("y", {rows, 1}));
  };
  Tensor loss = lossOn(batch);
  trace.begin("eval", EntryKind::eval, loss);
  loss = lossOn(n);
  trace.optimizer(optim::SGD{.lr = 0.01});
  trace.train({.dataset = "optimizers", .epochs = 12, .batch = batch, .shuffle = true, .log_every = 32});
  return loss;
}
