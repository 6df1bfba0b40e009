// Traces a model of the zoo benchmark from its layer list, the same text bench/zoo/zoo.py
// builds PyTorch's twin from, so that both sides train one definition.
//
//   zoo-trace OUT.mlir NAME INPUT BATCH OPTIMIZER LAYERS
//     INPUT      C,H,W (images) or F (features)
//     OPTIMIZER  sgd:LR[:MOMENTUM] or adam:LR
//     LAYERS     ';'-separated: conv IN OUT K STRIDE PAD | convnb (the same, no bias) |
//                linear IN OUT | maxpool K STRIDE | avgpool K STRIDE | relu | leakyrelu |
//                softplus | tanh | sigmoid | flatten | bn C (BatchNorm2d) |
//                res IN OUT STRIDE (a residual block, below)
// The loss is cross-entropy against integer labels "y"; the input is "x". Parameters are
// named as torch.nn.Sequential names them ("0.weight", ...).
#include "kiln/Tensor.h"
#include "kiln/nn.h"

#include <cstdio>
#include <sstream>

using namespace kiln::nn;

namespace {

std::vector<std::string> split(const std::string &s, char by) {
  std::vector<std::string> parts;
  std::stringstream in(s);
  for (std::string part; std::getline(in, part, by);)
    if (part.find_first_not_of(' ') != std::string::npos)
      parts.push_back(part);
  return parts;
}

int64_t number(const std::string &s, const std::string &what) {
  size_t used = 0;
  int64_t v = 0;
  try {
    v = std::stoll(s, &used);
  } catch (const std::exception &) {
    used = 0;
  }
  if (used != s.size())
    throw kiln::Error("zoo-trace: " + what + ": '" + s + "' is not an integer");
  return v;
}

// A basic residual block: two bias-free 3x3 convolutions (the first at `stride`) each
// followed by BatchNorm2d, a ReLU between them, added to the input (through a bias-free 1x1
// convolution at `stride` and BatchNorm2d where the shape changes), then a ReLU. Parameters
// are named as bench/zoo/models.py's PyTorch twin names them.
struct Residual : Module {
  Conv2d conv1, conv2;
  BatchNorm2d bn1, bn2;
  Sequential shortcut;
  Residual(int64_t in, int64_t out, int64_t stride)
      : conv1(in, out, 3, stride, 1, 1, false), conv2(out, out, 3, 1, 1, 1, false), bn1(out), bn2(out) {
    register_module("conv1", conv1);
    register_module("bn1", bn1);
    register_module("conv2", conv2);
    register_module("bn2", bn2);
    if (stride != 1 || in != out)
      shortcut.append(Conv2d(in, out, 1, stride, 0, 1, false)).append(BatchNorm2d(out));
    register_module("shortcut", shortcut);
  }
  kiln::Tensor forward(const kiln::Tensor &x) const override {
    kiln::Tensor y = bn2(conv2(relu(bn1(conv1(x)))));
    return relu(y + shortcut(x));
  }
  ReLU relu;
};

// One layer of the list, passed to `add` as a module; an unknown kind or count is an error.
template <typename Add> void addLayer(const std::string &text, Add add) {
  std::istringstream words(text);
  std::string kind;
  std::vector<int64_t> a;
  words >> kind;
  for (std::string w; words >> w;)
    a.push_back(number(w, "layer '" + text + "'"));
  auto need = [&](size_t n) {
    if (a.size() != n)
      throw kiln::Error("zoo-trace: layer '" + text + "' takes " + std::to_string(n) + " numbers");
  };
  if (kind == "conv" || kind == "convnb") {
    need(5);
    add(Conv2d(a[0], a[1], a[2], a[3], a[4], 1, kind == "conv"));
  } else if (kind == "res") {
    need(3);
    add(Residual(a[0], a[1], a[2]));
  } else if (kind == "bn") {
    need(1);
    add(BatchNorm2d(a[0]));
  } else if (kind == "linear") {
    need(2);
    add(Linear(a[0], a[1]));
  } else if (kind == "maxpool") {
    need(2);
    add(MaxPool2d(a[0], a[1]));
  } else if (kind == "avgpool") {
    need(2);
    add(AvgPool2d(a[0], a[1]));
  } else if (kind == "relu") {
    need(0);
    add(ReLU());
  } else if (kind == "leakyrelu") {
    need(0);
    add(LeakyReLU());
  } else if (kind == "softplus") {
    need(0);
    add(Softplus());
  } else if (kind == "tanh") {
    need(0);
    add(Tanh());
  } else if (kind == "sigmoid") {
    need(0);
    add(Sigmoid());
  } else if (kind == "flatten") {
    need(0);
    add(Flatten());
  } else {
    throw kiln::Error("zoo-trace: unknown layer '" + kind + "'");
  }
}

} // namespace

int main(int argc, char **argv) {
  if (argc != 7) {
    std::fprintf(stderr, "usage: %s OUT.mlir NAME INPUT BATCH OPTIMIZER LAYERS\n", argv[0]);
    return 2;
  }
  try {
    std::string name = argv[2];
    kiln::Shape input{number(argv[4], "batch")};
    for (const std::string &d : split(argv[3], ','))
      input.push_back(number(d, "input"));
    Sequential net;
    for (const std::string &layer : split(argv[6], ';'))
      addLayer(layer, [&](auto module) { net.append(std::move(module)); });

    kiln::Trace trace(name);
    CrossEntropyLoss lossFn;
    kiln::Tensor x = trace.input("x", input);
    kiln::Tensor loss = lossFn(net(x), trace.labels("y", {input[0]}));
    std::vector<std::string> opt = split(argv[5], ':');
    if (opt.size() >= 2 && opt[0] == "sgd" && opt.size() <= 3)
      trace.optimizer(kiln::optim::SGD{.lr = std::stod(opt[1]), .momentum = opt.size() == 3 ? std::stod(opt[2]) : 0.0});
    else if (opt.size() == 2 && opt[0] == "adam")
      trace.optimizer(kiln::optim::Adam{.lr = std::stod(opt[1])});
    else
      throw kiln::Error(std::string("zoo-trace: optimizer '") + argv[5] + "' is not sgd:LR[:MOMENTUM] or adam:LR");
    trace.train({.task = "classification", .steps = 20, .batch = input[0], .log_every = 10, .summary = net.repr()});
    trace.write(argv[1], loss);
  } catch (const std::exception &e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
  return 0;
}
