// Lesson 8: mini-batches. x = linspace(1, 10, 10), y = linspace(10, 1, 10), batch 5, 3 epochs,
// shuffled; the binary prints every batch as the tutorial does (--shuffle off for the
// unshuffled order). A Linear(1, 1) fits y on x meanwhile, so the batches really feed a step.
#include "kiln/Tensor.h"
#include "kiln/nn.h"

#include <cstdio>

int main(int argc, char **argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s OUT.mlir\n", argv[0]);
    return 2;
  }
  try {
    kiln::Trace trace("minibatch");
    kiln::nn::Linear fit(1, 1);
    // Batches of plain vectors, printed as the tutorial prints them; the layer wants columns.
    kiln::Tensor x = trace.input("x", {5});
    kiln::Tensor y = trace.input("y", {5});
    kiln::Tensor loss = kiln::nn::MSELoss()(fit(x.reshape({5, 1})), y.reshape({5, 1}));
    trace.optimizer(kiln::optim::SGD{.lr = 0.01});
    trace.train({.dataset = "minibatch", .epochs = 3, .batch = 5, .shuffle = true, .log_every = 1,
                 .print_batches = true});
    trace.write(argv[1], loss);
  } catch (const kiln::Error &e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
  return 0;
}
