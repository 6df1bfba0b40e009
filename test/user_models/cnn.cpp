// A user's CNN: bias-free convolutions, average pooling, GELU; RGB 16x16 images in 10
// classes, SGD with momentum, batch 16. test/torch/user_models_crosscheck.py trains the same
// model in PyTorch.
#include "kiln/kiln.h"

using namespace kiln;
using namespace kiln::nn;

struct Net : Module {
  Conv2d conv1{3, 8, 3, 1, 1, 1, /*bias=*/false};
  Conv2d conv2{8, 16, 3, 1, 0, 1, /*bias=*/false};
  AvgPool2d pool{2};
  Flatten flatten;
  Linear out{16 * 3 * 3, 10};
  Net() {
    register_module("conv1", conv1);
    register_module("conv2", conv2);
    register_module("out", out);
  }
  Tensor forward(const Tensor &x) const override {
    Tensor h = pool(relu(conv1(x)));
    h = pool(gelu(conv2(h)));
    return out(flatten(h));
  }
};

KILN_MODEL(user_cnn, trace) {
  Net net;
  Tensor x = trace.input("x", {16, 3, 16, 16});
  Tensor y = trace.labels("y", {16});
  trace.optimizer(optim::SGD{.lr = 0.05, .momentum = 0.9});
  trace.train({.epochs = 1, .batch = 16, .log_every = 5, .summary = net.repr()});
  return CrossEntropyLoss()(net(x), y);
}
