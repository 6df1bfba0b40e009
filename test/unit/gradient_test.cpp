// Every primitive's gradient rule against central finite differences.
//
// Each case is a small @forward: loss = sum(op(params...) * w), with w a fixed random input so
// that every output element's adjoint differs. kiln-autodiff gives @grad; both are evaluated
// in-process through the Halide JIT. FD step h = 1e-2 in float32: the truncation error is
// O(h^2 |f'''|) ~ 1e-4 and the rounding error ~ (ulp of the loss) / h ~ 1e-4, so analytic and
// numeric gradients must agree within 5e-3 * (1 + |g|).
#include "codegen/Evaluate.h"
#include "ir/Dialect.h"
#include "passes/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"

#include <gtest/gtest.h>

#include <random>

using namespace mlir;

namespace {

struct Param {
  std::string type; // e.g. "tensor<3x4xf32>"
  std::vector<int64_t> shape;
  float lo, hi; // values drawn uniformly from [lo, hi]
};

struct Case {
  std::vector<Param> params; // %p0, %p1, ...
  std::string resultType;    // type of %r
  std::vector<int64_t> resultShape;
  std::string body; // computes %r from %p0..
};

int64_t count(const std::vector<int64_t> &s) {
  int64_t n = 1;
  for (int64_t d : s)
    n *= d;
  return n;
}

std::string moduleText(const Case &c) {
  std::string args;
  for (size_t i = 0; i < c.params.size(); ++i)
    args += "%p" + std::to_string(i) + ": " + c.params[i].type + " {kiln.param = \"p" + std::to_string(i) + "\"}, ";
  std::string dims;
  for (size_t d = 0; d < c.resultShape.size(); ++d)
    dims += (d ? ", " : "") + std::to_string(d);
  return "func.func @forward(" + args + "%w: " + c.resultType + " {kiln.input = \"w\"}) -> tensor<f32> {\n" + c.body +
         "\n  %m = kiln.mul %r, %w : (" + c.resultType + ", " + c.resultType + ") -> " + c.resultType +
         "\n  %l = kiln.reduce_sum %m {dimensions = array<i64" + (dims.empty() ? "" : ": " + dims) + ">} : (" +
         c.resultType + ") -> tensor<f32>\n  return %l : tensor<f32>\n}\n";
}

class GradientCheck {
public:
  explicit GradientCheck(const Case &c) : c_(c) {
    context_.loadDialect<kiln::KilnDialect, func::FuncDialect>();
    module_ = parseSourceString<ModuleOp>(moduleText(c), &context_);
    EXPECT_TRUE(module_) << moduleText(c);
    PassManager pm(&context_);
    pm.addPass(kiln::createKilnAutodiff());
    EXPECT_TRUE(succeeded(pm.run(*module_)));
    std::mt19937 rng(42);
    for (const Param &p : c.params) {
      std::uniform_real_distribution<float> u(p.lo, p.hi);
      std::vector<float> v(count(p.shape));
      for (float &x : v)
        x = u(rng);
      args_.push_back(kiln::HostTensor::f32(p.shape, v));
    }
    std::uniform_real_distribution<float> u(-1.0f, 1.0f);
    std::vector<float> w(count(c.resultShape));
    for (float &x : w)
      x = u(rng);
    args_.push_back(kiln::HostTensor::f32(c.resultShape, w));
  }

  float loss(const std::vector<kiln::HostTensor> &args) {
    auto out = kiln::evaluate(module_->lookupSymbol<func::FuncOp>("forward"), args);
    EXPECT_TRUE(succeeded(out));
    return (*out)[0].floats()[0];
  }

  std::vector<kiln::HostTensor> gradients(const std::vector<kiln::HostTensor> &args) {
    auto out = kiln::evaluate(module_->lookupSymbol<func::FuncOp>("grad"), args);
    EXPECT_TRUE(succeeded(out));
    return {out->begin() + 1, out->end()};
  }

  void run() {
    const float h = 1e-2f;
    std::vector<kiln::HostTensor> analytic = gradients(args_);
    ASSERT_EQ(analytic.size(), c_.params.size());
    for (size_t p = 0; p < c_.params.size(); ++p) {
      for (int64_t i = 0; i < count(c_.params[p].shape); ++i) {
        auto plus = args_, minus = args_;
        plus[p].floats()[i] += h;
        minus[p].floats()[i] -= h;
        float numeric = (loss(plus) - loss(minus)) / (2 * h);
        float g = analytic[p].floats()[i];
        EXPECT_NEAR(g, numeric, 5e-3f * (1 + std::fabs(g))) << "parameter p" << p << " element " << i;
      }
    }
  }

  std::vector<kiln::HostTensor> args_;

private:
  Case c_;
  MLIRContext context_;
  OwningOpRef<ModuleOp> module_;
};

const Param m23{"tensor<2x3xf32>", {2, 3}, -1.5f, 1.5f};
const Param m23pos{"tensor<2x3xf32>", {2, 3}, 0.5f, 2.0f};

Case binary(const std::string &op, Param a, Param b) {
  return {{a, b}, a.type, a.shape, "  %r = kiln." + op + " %p0, %p1 : (" + a.type + ", " + b.type + ") -> " + a.type};
}

Case unary(const std::string &op, Param a) {
  return {{a}, a.type, a.shape, "  %r = kiln." + op + " %p0 : (" + a.type + ") -> " + a.type};
}

TEST(Gradient, Add) { GradientCheck(binary("add", m23, m23)).run(); }
TEST(Gradient, Sub) { GradientCheck(binary("sub", m23, m23)).run(); }
TEST(Gradient, Mul) { GradientCheck(binary("mul", m23, m23)).run(); }
TEST(Gradient, Div) { GradientCheck(binary("div", m23, m23pos)).run(); }
TEST(Gradient, Neg) { GradientCheck(unary("neg", m23)).run(); }
TEST(Gradient, Exp) { GradientCheck(unary("exp", m23)).run(); }
TEST(Gradient, Log) { GradientCheck(unary("log", m23pos)).run(); }
TEST(Gradient, Sqrt) { GradientCheck(unary("sqrt", m23pos)).run(); }
TEST(Gradient, Sin) { GradientCheck(unary("sin", m23)).run(); }
TEST(Gradient, Cos) { GradientCheck(unary("cos", m23)).run(); }
TEST(Gradient, Erf) { GradientCheck(unary("erf", m23)).run(); }
// Away from 0, where |x| is differentiable.
TEST(Gradient, Abs) {
  GradientCheck(unary("abs", m23pos)).run();
  GradientCheck(unary("abs", {"tensor<2x3xf32>", {2, 3}, -2.0f, -0.5f})).run();
}

// Disjoint ranges keep the operands apart, where max is differentiable.
TEST(Gradient, Max) {
  GradientCheck(binary("max", {"tensor<2x3xf32>", {2, 3}, 0.5f, 1.5f}, {"tensor<2x3xf32>", {2, 3}, -1.5f, -0.5f}))
      .run();
  GradientCheck(binary("max", {"tensor<2x3xf32>", {2, 3}, -1.5f, -0.5f}, {"tensor<2x3xf32>", {2, 3}, 0.5f, 1.5f}))
      .run();
}

TEST(Gradient, Min) {
  GradientCheck(binary("min", {"tensor<2x3xf32>", {2, 3}, 0.5f, 1.5f}, {"tensor<2x3xf32>", {2, 3}, -1.5f, -0.5f}))
      .run();
  GradientCheck(binary("min", {"tensor<2x3xf32>", {2, 3}, -1.5f, -0.5f}, {"tensor<2x3xf32>", {2, 3}, 0.5f, 1.5f}))
      .run();
}

// select(p0 > p1, p0, p1 * p1): the mask comes from a compare, which passes no gradient.
TEST(Gradient, CompareSelect) {
  Case c{{m23, m23},
         m23.type,
         m23.shape,
         "  %c = kiln.compare %p0, %p1 {direction = \"GT\"} : (tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<2x3xi1>\n"
         "  %s = kiln.mul %p1, %p1 : (tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<2x3xf32>\n"
         "  %r = kiln.select %c, %p0, %s : (tensor<2x3xi1>, tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<2x3xf32>"};
  GradientCheck check(c);
  // Keep every pair at least 0.1 apart so that no step of h flips the mask.
  for (int i = 0; i < 6; ++i)
    if (std::fabs(check.args_[0].floats()[i] - check.args_[1].floats()[i]) < 0.1f)
      check.args_[0].floats()[i] += 0.3f;
  check.run();
}

TEST(Gradient, BroadcastInDim) {
  GradientCheck({{{"tensor<3xf32>", {3}, -1, 1}},
                 "tensor<2x3xf32>",
                 {2, 3},
                 "  %r = kiln.broadcast_in_dim %p0 {broadcast_dimensions = array<i64: 1>, shape = array<i64: 2, 3>} : "
                 "(tensor<3xf32>) -> tensor<2x3xf32>"})
      .run();
  GradientCheck({{{"tensor<2x1xf32>", {2, 1}, -1, 1}},
                 "tensor<4x2x3xf32>",
                 {4, 2, 3},
                 "  %r = kiln.broadcast_in_dim %p0 {broadcast_dimensions = array<i64: 1, 2>, shape = array<i64: 4, 2, "
                 "3>} : (tensor<2x1xf32>) -> tensor<4x2x3xf32>"})
      .run();
}

TEST(Gradient, Reshape) {
  GradientCheck({{m23},
                 "tensor<3x2xf32>",
                 {3, 2},
                 "  %r = kiln.reshape %p0 {shape = array<i64: 3, 2>} : (tensor<2x3xf32>) -> tensor<3x2xf32>"})
      .run();
}

TEST(Gradient, Transpose) {
  GradientCheck({{m23},
                 "tensor<3x2xf32>",
                 {3, 2},
                 "  %r = kiln.transpose %p0 {permutation = array<i64: 1, 0>} : (tensor<2x3xf32>) -> tensor<3x2xf32>"})
      .run();
}

TEST(Gradient, ReduceSum) {
  GradientCheck({{m23},
                 "tensor<3xf32>",
                 {3},
                 "  %r = kiln.reduce_sum %p0 {dimensions = array<i64: 0>} : (tensor<2x3xf32>) -> tensor<3xf32>"})
      .run();
}

TEST(Gradient, ReduceMean) {
  GradientCheck({{m23},
                 "tensor<2xf32>",
                 {2},
                 "  %r = kiln.reduce_mean %p0 {dimensions = array<i64: 1>} : (tensor<2x3xf32>) -> tensor<2xf32>"})
      .run();
}

// Random values are distinct, so the maximum is unique and differentiable.
TEST(Gradient, ReduceMax) {
  GradientCheck({{{"tensor<3x4xf32>", {3, 4}, -2, 2}},
                 "tensor<3xf32>",
                 {3},
                 "  %r = kiln.reduce_max %p0 {dimensions = array<i64: 1>} : (tensor<3x4xf32>) -> tensor<3xf32>"})
      .run();
}

TEST(Gradient, Matmul) {
  GradientCheck({{m23, {"tensor<3x4xf32>", {3, 4}, -1, 1}},
                 "tensor<2x4xf32>",
                 {2, 4},
                 "  %r = kiln.matmul %p0, %p1 : (tensor<2x3xf32>, tensor<3x4xf32>) -> tensor<2x4xf32>"})
      .run();
}

// Convolutions with stride 2, padding 1 and dilation 1 or 2; each form's gradient rule uses
// the other two forms.
const char *convAttrs = "stride = array<i64: 2, 1>, padding = array<i64: 1, 1>, dilation = array<i64: 1, 2>";

TEST(Gradient, Conv2d) {
  GradientCheck({{{"tensor<2x2x5x6xf32>", {2, 2, 5, 6}, -1, 1}, {"tensor<3x2x3x2xf32>", {3, 2, 3, 2}, -1, 1}},
                 "tensor<2x3x3x6xf32>",
                 {2, 3, 3, 6},
                 std::string("  %r = kiln.conv2d %p0, %p1 {") + convAttrs +
                     "} : (tensor<2x2x5x6xf32>, tensor<3x2x3x2xf32>) -> tensor<2x3x3x6xf32>"})
      .run();
}

TEST(Gradient, Conv2dInputGrad) {
  GradientCheck({{{"tensor<2x3x3x6xf32>", {2, 3, 3, 6}, -1, 1}, {"tensor<3x2x3x2xf32>", {3, 2, 3, 2}, -1, 1}},
                 "tensor<2x2x5x6xf32>",
                 {2, 2, 5, 6},
                 std::string("  %r = kiln.conv2d_input_grad %p0, %p1 {") + convAttrs +
                     ", input_shape = array<i64: 2, 2, 5, 6>} : (tensor<2x3x3x6xf32>, tensor<3x2x3x2xf32>) -> "
                     "tensor<2x2x5x6xf32>"})
      .run();
}

TEST(Gradient, Conv2dFilterGrad) {
  GradientCheck({{{"tensor<2x2x5x6xf32>", {2, 2, 5, 6}, -1, 1}, {"tensor<2x3x3x6xf32>", {2, 3, 3, 6}, -1, 1}},
                 "tensor<3x2x3x2xf32>",
                 {3, 2, 3, 2},
                 std::string("  %r = kiln.conv2d_filter_grad %p0, %p1 {") + convAttrs +
                     ", filter_shape = array<i64: 3, 2, 3, 2>} : (tensor<2x2x5x6xf32>, tensor<2x3x3x6xf32>) -> "
                     "tensor<3x2x3x2xf32>"})
      .run();
}

// Random inputs have distinct values, so each window's maximum is unique and differentiable.
TEST(Gradient, MaxPool2d) {
  GradientCheck(
      {{{"tensor<2x2x6x5xf32>", {2, 2, 6, 5}, -2, 2}},
       "tensor<2x2x3x2xf32>",
       {2, 2, 3, 2},
       "  %r = kiln.max_pool2d %p0 {kernel = array<i64: 2, 2>, stride = array<i64: 2, 2>, padding = array<i64: 0, 0>}"
       " : (tensor<2x2x6x5xf32>) -> tensor<2x2x3x2xf32>"})
      .run();
}

TEST(Gradient, AvgPool2d) {
  GradientCheck(
      {{{"tensor<2x2x6x5xf32>", {2, 2, 6, 5}, -2, 2}},
       "tensor<2x2x3x3xf32>",
       {2, 2, 3, 3},
       "  %r = kiln.avg_pool2d %p0 {kernel = array<i64: 3, 3>, stride = array<i64: 2, 2>, padding = array<i64: 1, 1>}"
       " : (tensor<2x2x6x5xf32>) -> tensor<2x2x3x3xf32>"})
      .run();
}

TEST(Gradient, AvgPool2dGrad) {
  GradientCheck({{{"tensor<2x2x3x3xf32>", {2, 2, 3, 3}, -2, 2}},
                 "tensor<2x2x6x5xf32>",
                 {2, 2, 6, 5},
                 "  %r = kiln.avg_pool2d_grad %p0 {kernel = array<i64: 3, 3>, stride = array<i64: 2, 2>, padding = "
                 "array<i64: 1, 1>, input_shape = array<i64: 2, 2, 6, 5>}"
                 " : (tensor<2x2x3x3xf32>) -> tensor<2x2x6x5xf32>"})
      .run();
}

// A constant has no operands; its use must not disturb the other operand's gradient.
TEST(Gradient, Constant) {
  GradientCheck({{m23},
                 m23.type,
                 m23.shape,
                 "  %c = kiln.constant {value = dense<2.5> : tensor<2x3xf32>} : tensor<2x3xf32>\n"
                 "  %r = kiln.mul %p0, %c : (tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<2x3xf32>"})
      .run();
}

// Ties, as PyTorch defines them: max(a, a) sends half the adjoint to each side; relu written
// as select(x > 0, x, 0) has gradient 0 at x = 0.
TEST(GradientTies, MaxSplitsEvenly) {
  Case c = binary("max", m23, m23);
  GradientCheck check(c);
  check.args_[1] = check.args_[0];
  auto g = check.gradients(check.args_);
  for (int i = 0; i < 6; ++i) {
    EXPECT_FLOAT_EQ(g[0].floats()[i], 0.5f * check.args_[2].floats()[i]);
    EXPECT_FLOAT_EQ(g[1].floats()[i], 0.5f * check.args_[2].floats()[i]);
  }
}

// min(a, a), as max(a, a): half the adjoint to each side (torch.minimum's rule).
TEST(GradientTies, MinSplitsEvenly) {
  Case c = binary("min", m23, m23);
  GradientCheck check(c);
  check.args_[1] = check.args_[0];
  auto g = check.gradients(check.args_);
  for (int i = 0; i < 6; ++i) {
    EXPECT_FLOAT_EQ(g[0].floats()[i], 0.5f * check.args_[2].floats()[i]);
    EXPECT_FLOAT_EQ(g[1].floats()[i], 0.5f * check.args_[2].floats()[i]);
  }
}

// d|x| at 0 is 0 (PyTorch's sgn(0) = 0).
TEST(GradientTies, AbsAtZeroIsZero) {
  GradientCheck check(unary("abs", m23));
  float *x = check.args_[0].floats();
  x[0] = 0.0f, x[1] = -1.0f, x[2] = 1.0f, x[3] = 0.0f, x[4] = -0.0f, x[5] = 2.0f;
  auto g = check.gradients(check.args_);
  const float *w = check.args_[1].floats();
  const float expected[6] = {0, -w[1], w[2], 0, 0, w[5]};
  for (int i = 0; i < 6; ++i)
    EXPECT_FLOAT_EQ(g[0].floats()[i], expected[i]) << "element " << i;
}

// The maximum of a row with k equal largest values sends dy / k to each (PyTorch's amax).
TEST(GradientTies, ReduceMaxSharesTies) {
  GradientCheck check({{{"tensor<2x3xf32>", {2, 3}, -1, 1}},
                       "tensor<2xf32>",
                       {2},
                       "  %r = kiln.reduce_max %p0 {dimensions = array<i64: 1>} : (tensor<2x3xf32>) -> tensor<2xf32>"});
  float *x = check.args_[0].floats();
  x[0] = 2, x[1] = 2, x[2] = 1; // row 0: a tie of two
  x[3] = 5, x[4] = 5, x[5] = 5; // row 1: a tie of three
  auto g = check.gradients(check.args_);
  const float *w = check.args_[1].floats();
  const float expected[6] = {w[0] / 2, w[0] / 2, 0, w[1] / 3, w[1] / 3, w[1] / 3};
  for (int i = 0; i < 6; ++i)
    EXPECT_FLOAT_EQ(g[0].floats()[i], expected[i]) << "element " << i;
}

TEST(GradientTies, ReluAtZeroIsZero) {
  Case c{{m23},
         m23.type,
         m23.shape,
         "  %z = kiln.constant {value = dense<0.0> : tensor<2x3xf32>} : tensor<2x3xf32>\n"
         "  %c = kiln.compare %p0, %z {direction = \"GT\"} : (tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<2x3xi1>\n"
         "  %r = kiln.select %c, %p0, %z : (tensor<2x3xi1>, tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<2x3xf32>"};
  GradientCheck check(c);
  float *x = check.args_[0].floats();
  x[0] = 0.0f, x[1] = 0.0f, x[2] = 1.0f, x[3] = -1.0f, x[4] = 0.0f, x[5] = 2.0f;
  auto g = check.gradients(check.args_);
  const float *w = check.args_[1].floats();
  const float expected[6] = {0, 0, w[2], 0, 0, w[5]};
  for (int i = 0; i < 6; ++i)
    EXPECT_FLOAT_EQ(g[0].floats()[i], expected[i]) << "element " << i;
}

} // namespace
