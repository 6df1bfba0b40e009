// Lesson 6: the quick way to build lesson 5's net, nn::Sequential. Prints the module as
// PyTorch does; the compiled binary trains exactly like lesson 5's.
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
    const int64_t n = 200;
    kiln::Trace trace("sequential");
    Sequential net(Linear(2, 10), ReLU(), Linear(10, 2));
    std::printf("%s\n", net.repr().c_str());
    CrossEntropyLoss lossFn;
    kiln::Tensor loss = lossFn(net(trace.input("x", {n, 2})), trace.labels("y", {n}));
    trace.begin("eval", kiln::EntryKind::eval, loss);
    kiln::Tensor logits = net(trace.input("x", {n, 2}));
    trace.output("logits", logits);
    trace.optimizer(kiln::optim::SGD{.lr = 0.02});
    trace.train({.dataset = "classification", .task = "classification", .steps = 100,
                 .batch = n, .log_every = 10, .summary = net.repr()});
    trace.write(argv[1], lossFn(logits, trace.labels("y", {n})));
  } catch (const kiln::Error &e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
  return 0;
}
