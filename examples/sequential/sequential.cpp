// Lesson 6: the quick way to build lesson 5's net, nn::Sequential. Prints the module as
// PyTorch does; the compiled binary trains exactly like lesson 5's.
#include "kiln/kiln.h"

#include <cstdio>

using namespace kiln;

KILN_MODEL(sequential, trace) {
  using namespace nn;
  const int64_t n = 200;
  Sequential net(Linear(2, 10), ReLU(), Linear(10, 2));
  std::printf("%s\n", net.repr().c_str());
  CrossEntropyLoss lossFn;
  Tensor x = trace.input("x", {n, 2});
  Tensor loss = lossFn(net(x), trace.labels("y", {n}));
  trace.begin("eval", EntryKind::eval, loss);
  Tensor logits = net(trace.input("x", {n, 2}));
  trace.output("logits", logits);
  trace.optimizer(optim::SGD{.lr = 0.02});
  trace.train({.dataset = "classification",
               .task = "classification",
               .steps = 100,
               .batch = n,
               .log_every = 10,
               .summary = net.repr(),
               .draw = true});
  return lossFn(logits, trace.labels("y", {n}));
}
