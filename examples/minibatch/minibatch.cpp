// Lesson 8: mini-batches. x = linspace(1, 10, 10), y = linspace(10, 1, 10), batch 5, 3 epochs,
// shuffled; the binary prints every batch as the tutorial does (--shuffle off for the
// unshuffled order). A Linear(1, 1) fits y on x meanwhile, so the batches really feed a step.
#include "kiln/kiln.h"

using namespace kiln;

KILN_MODEL(minibatch, trace) {
  nn::Linear fit(1, 1);
  // Batches of plain vectors, printed as the tutorial prints them; the layer wants columns.
  Tensor x = trace.input("x", {5});
  Tensor y = trace.input("y", {5});
  trace.optimizer(optim::SGD{.lr = 0.01});
  trace.train(
      {.dataset = "minibatch", .epochs = 3, .batch = 5, .shuffle = true, .log_every = 1, .print_batches = true});
  return nn::MSELoss()(fit(x.reshape({5, 1})), y.reshape({5, 1}));
}
