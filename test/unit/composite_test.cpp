// Every composite of the DSL (activations, log_softmax, the losses, Linear) against central
// finite differences. The model is traced with the DSL; its parameters are the variables;
// kiln-autodiff builds @grad; both are evaluated in-process (Halide JIT). FD step and
// tolerance as in gradient_test.cpp: h = 1e-2, |g - fd| <= 5e-3 (1 + |g|).
#include "codegen/Evaluate.h"
#include "frontend/TraceImpl.h"
#include "kiln/nn.h"
#include "passes/Passes.h"

#include "mlir/Pass/PassManager.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <map>
#include <random>

namespace {

using kiln::HostTensor;
using kiln::Tensor;

struct Inputs {
  std::map<std::string, std::vector<float>> floats;
  std::map<std::string, std::vector<int32_t>> labels;
};

// Parameter values: uniform in [lo, hi], seeded; `fix` may overwrite some before the check.
void checkModel(const std::function<Tensor(kiln::Trace &)> &build, const Inputs &inputs, float lo, float hi,
                const std::function<void(const std::string &, std::vector<float> &)> &fix = nullptr) {
  kiln::Trace trace("check");
  Tensor loss = build(trace);
  trace.finish(loss);
  auto &m = trace.impl();
  mlir::PassManager pm(&m.context);
  kiln::addStagePasses(kiln::Stage::grad, pm, kiln::PipelineOptions{});
  ASSERT_TRUE(mlir::succeeded(pm.run(*m.module)));
  auto forward = m.module->lookupSymbol<mlir::func::FuncOp>("forward");
  auto grad = m.module->lookupSymbol<mlir::func::FuncOp>("grad");

  std::mt19937 rng(7);
  std::uniform_real_distribution<float> u(lo, hi);
  std::vector<HostTensor> args;
  std::vector<size_t> params;
  for (mlir::BlockArgument arg : forward.getArguments()) {
    auto type = llvm::cast<mlir::RankedTensorType>(arg.getType());
    std::vector<int64_t> shape(type.getShape().begin(), type.getShape().end());
    unsigned i = arg.getArgNumber();
    if (auto p = forward.getArgAttrOfType<mlir::StringAttr>(i, "kiln.param")) {
      std::vector<float> v(type.getNumElements());
      for (float &x : v)
        x = u(rng);
      if (fix)
        fix(p.getValue().str(), v);
      params.push_back(args.size());
      args.push_back(HostTensor::f32(shape, v));
      continue;
    }
    if (forward.getArgAttr(i, "kiln.random")) { // a fixed step's key: the same mask for every evaluation
      const int32_t key[4] = {7, 0, 3, 0};
      HostTensor t;
      t.desc = {kiln::DType::i32, shape};
      t.bytes.resize(sizeof key);
      std::memcpy(t.bytes.data(), key, sizeof key);
      args.push_back(t);
      continue;
    }
    if (forward.getArgAttr(i, "kiln.buffer")) { // running statistics: train mode only updates them
      args.push_back(HostTensor::f32(shape, std::vector<float>(type.getNumElements(), 0.5f)));
      continue;
    }
    std::string name = forward.getArgAttrOfType<mlir::StringAttr>(i, "kiln.input").getValue().str();
    if (type.getElementType().isInteger(32)) {
      const std::vector<int32_t> &l = inputs.labels.at(name);
      HostTensor t;
      t.desc = {kiln::DType::i32, shape};
      t.bytes.resize(l.size() * 4);
      std::memcpy(t.bytes.data(), l.data(), t.bytes.size());
      args.push_back(t);
    } else {
      args.push_back(HostTensor::f32(shape, inputs.floats.at(name)));
    }
  }

  auto lossAt = [&](const std::vector<HostTensor> &a) {
    auto out = kiln::evaluate(forward, a);
    EXPECT_TRUE(mlir::succeeded(out));
    return (*out)[0].floats()[0];
  };
  auto analytic = kiln::evaluate(grad, args);
  ASSERT_TRUE(mlir::succeeded(analytic));
  const float h = 1e-2f;
  for (size_t k = 0; k < params.size(); ++k) {
    // @grad returns the loss, the forward's other results (buffers' new values), then the gradients.
    const HostTensor &g = (*analytic)[analytic->size() - params.size() + k];
    for (int64_t i = 0; i < g.desc.elements(); ++i) {
      auto plus = args, minus = args;
      plus[params[k]].floats()[i] += h;
      minus[params[k]].floats()[i] -= h;
      float fd = (lossAt(plus) - lossAt(minus)) / (2 * h);
      EXPECT_NEAR(g.floats()[i], fd, 5e-3f * (1 + std::fabs(g.floats()[i]))) << "parameter " << k << " element " << i;
    }
  }
}

// sum(f(p) * w) with fixed weights w, so each element's adjoint differs.
Tensor weightedSum(kiln::Trace &trace, const Tensor &y) {
  Tensor w = trace.input("w", y.shape());
  std::vector<int64_t> all(y.shape().size());
  for (size_t i = 0; i < all.size(); ++i)
    all[i] = int64_t(i);
  return (y * w).sum(all);
}

Inputs weights(int64_t n) {
  std::vector<float> w(n);
  for (int64_t i = 0; i < n; ++i)
    w[i] = std::sin(1.0f + float(i));
  return {{{"w", w}}, {}};
}

void checkActivation(Tensor (*f)(const Tensor &, kiln::Where), float lo, float hi, std::vector<float> fixed = {}) {
  checkModel([&](kiln::Trace &t) { return weightedSum(t, f(t.parameter("x", {2, 5}, 1), kiln::Where::here())); },
             weights(10), lo, hi,
             [&](const std::string &, std::vector<float> &v) {
               for (size_t i = 0; i < fixed.size(); ++i)
                 v[i] = fixed[i];
             });
}

Tensor softplusDefault(const Tensor &x, kiln::Where at) { return kiln::nn::softplus(x, 20.0f, at); }

TEST(Composite, Relu) { checkActivation(kiln::nn::relu, -2, 2, {-1.5f, -0.3f, 0.4f, 1.1f}); }
TEST(Composite, Sigmoid) { checkActivation(kiln::nn::sigmoid, -4, 4, {0.0f, -30.0f, 30.0f}); }
TEST(Composite, Tanh) { checkActivation(kiln::nn::tanh, -3, 3, {0.0f, -20.0f, 20.0f}); }
// Both sides of the threshold (20), and far below it.
TEST(Composite, Softplus) { checkActivation(softplusDefault, -4, 4, {25.0f, -30.0f, 19.0f}); }
TEST(Composite, Gelu) { checkActivation(kiln::nn::gelu, -4, 4, {0.0f, -9.0f, 9.0f}); }
TEST(Composite, LogSoftmax) { checkActivation(kiln::nn::log_softmax, -2, 2); }

// torch.minimum and torch.maximum of two parameters, through the DSL: each side's gradient
// where it is the smaller (the larger).
TEST(Composite, MinimumAndMaximum) {
  checkModel(
      [](kiln::Trace &t) {
        Tensor a = t.parameter("a", {3, 5}, 1), b = t.parameter("b", {3, 5}, 1);
        return weightedSum(t, kiln::minimum(a, b) + 2.0f * kiln::maximum(a, b));
      },
      weights(15), -2, 2);
}

// The mask is a constant of the step: the gradient is the kept elements' weights, scaled.
TEST(Composite, Dropout) {
  checkModel(
      [](kiln::Trace &t) {
        Tensor x = t.parameter("x", {4, 8}, 1);
        return weightedSum(t, kiln::nn::functional::dropout(x * x, 0.3));
      },
      weights(32), -2, 2);
}

// Train mode: the batch's mean and biased variance, through both (the input is the variable),
// with and without the affine weight and bias (variables too).
TEST(Composite, BatchNorm1dTrain) {
  for (bool affine : {true, false})
    checkModel(
        [&](kiln::Trace &t) {
          static kiln::nn::BatchNorm1d on(4), off(4, 1e-5, 0.1, false);
          Tensor x = t.parameter("x", {6, 4}, 1);
          return weightedSum(t, (affine ? on : off)(x * x));
        },
        weights(24), -2, 2);
}

TEST(Composite, BatchNorm2dTrain) {
  for (bool affine : {true, false})
    checkModel(
        [&](kiln::Trace &t) {
          static kiln::nn::BatchNorm2d on(2, 1e-3), off(2, 1e-5, std::nullopt, false);
          Tensor x = t.parameter("x", {3, 2, 3, 3}, 1);
          return weightedSum(t, (affine ? on : off)(x));
        },
        weights(54), -2, 2);
}

TEST(Composite, LinearWithMSELoss) {
  Inputs in;
  in.floats["x"] = {0.1f, -0.4f, 0.7f, 0.3f, 0.9f, -0.2f, -0.6f, 0.5f, 0.05f, 0.8f, -0.9f, 0.2f};
  in.floats["y"] = {0.3f, -0.1f, 0.5f, 0.2f, -0.7f, 0.4f, 0.6f, -0.3f};
  checkModel(
      [](kiln::Trace &t) {
        static kiln::nn::Linear layer(3, 2);
        return kiln::nn::MSELoss()(layer(t.input("x", {4, 3})), t.input("y", {4, 2}));
      },
      in, -1, 1);
}

// No ReLU between the layers here: a finite difference that crosses a ReLU's kink measures
// the kink, not the gradient (relu has its own test, with inputs kept away from 0).
TEST(Composite, SequentialWithCrossEntropy) {
  Inputs in;
  in.floats["x"] = {0.5f, -1.0f, 1.5f, 0.2f, -0.3f, 0.8f, 1.1f, -0.6f, 0.0f, 0.4f};
  in.labels["y"] = {2, 0, 1, 2, 1};
  checkModel(
      [](kiln::Trace &t) {
        using namespace kiln::nn;
        static Sequential net(Linear(2, 4), Linear(4, 3));
        return CrossEntropyLoss()(net(t.input("x", {5, 2})), t.labels("y", {5}));
      },
      in, -1, 1);
}

} // namespace
