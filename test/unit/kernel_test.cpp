// Each primitive's Halide lowering (run through the JIT) against a plain reference loop.
#include "codegen/KernelSpec.h"
#include "primitive_util.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <random>

namespace {

using kiln::DType;
using kiln::KernelSpec;
using kiln::TensorDesc;

std::vector<float> randomValues(int64_t n, unsigned seed, float lo = -2, float hi = 2) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(lo, hi);
  std::vector<float> v(n);
  for (float &x : v)
    x = u(rng);
  return v;
}

TensorDesc f32(std::vector<int64_t> shape) { return {DType::f32, std::move(shape)}; }

std::vector<float> run(const KernelSpec &spec, const std::vector<std::vector<float>> &inputs) {
  std::vector<const void *> ptrs;
  for (const auto &in : inputs)
    ptrs.push_back(in.data());
  std::vector<float> out(spec.output.elements());
  std::string error = kiln::runKernel(spec, ptrs, out.data());
  EXPECT_EQ(error, "");
  return out;
}

// The schedule codegen gives a kernel, its notes joined: what a test expects of a schedule.
std::string scheduleWords(const kiln::FusedKernel &kernel) {
  std::string words;
  for (const std::string &note : kiln::describeSchedule(kernel))
    words += note + "; ";
  return words;
}

KernelSpec spec(std::string op, std::vector<TensorDesc> inputs, TensorDesc output, std::vector<int64_t> dims = {}) {
  KernelSpec s;
  s.name = "test_" + op;
  setPrimitive(s, op);
  s.inputs = std::move(inputs);
  s.output = std::move(output);
  s.dims = std::move(dims);
  return s;
}

void expectElementwise(const std::string &op, std::function<float(float, float)> ref, float lo = -2, float hi = 2) {
  auto a = randomValues(37, 1, lo, hi), b = randomValues(37, 2, lo, hi);
  auto out = run(spec(op, {f32({37}), f32({37})}, f32({37})), {a, b});
  for (int i = 0; i < 37; ++i)
    EXPECT_FLOAT_EQ(out[i], ref(a[i], b[i])) << op << " element " << i;
}

TEST(Kernel, BinaryElementwise) {
  expectElementwise("add", [](float a, float b) { return a + b; });
  expectElementwise("sub", [](float a, float b) { return a - b; });
  expectElementwise("mul", [](float a, float b) { return a * b; });
  expectElementwise("div", [](float a, float b) { return a / b; }, 0.5f, 2.0f);
  expectElementwise("max", [](float a, float b) { return std::max(a, b); });
  expectElementwise("min", [](float a, float b) { return std::min(a, b); });
}

TEST(Kernel, UnaryElementwise) {
  auto a = randomValues(21, 3, 0.1f, 3.0f);
  auto neg = run(spec("neg", {f32({3, 7})}, f32({3, 7})), {a});
  auto ex = run(spec("exp", {f32({3, 7})}, f32({3, 7})), {a});
  auto lg = run(spec("log", {f32({3, 7})}, f32({3, 7})), {a});
  auto sq = run(spec("sqrt", {f32({3, 7})}, f32({3, 7})), {a});
  auto b = randomValues(21, 4, -6.0f, 6.0f);
  auto ab = run(spec("abs", {f32({3, 7})}, f32({3, 7})), {b});
  auto sn = run(spec("sin", {f32({3, 7})}, f32({3, 7})), {b});
  auto cs = run(spec("cos", {f32({3, 7})}, f32({3, 7})), {b});
  auto ef = run(spec("erf", {f32({3, 7})}, f32({3, 7})), {b});
  for (int i = 0; i < 21; ++i) {
    EXPECT_FLOAT_EQ(neg[i], -a[i]);
    EXPECT_NEAR(ex[i], std::exp(a[i]), 2e-6f * std::exp(a[i]));
    EXPECT_NEAR(lg[i], std::log(a[i]), 2e-6f);
    EXPECT_FLOAT_EQ(sq[i], std::sqrt(a[i]));
    EXPECT_EQ(ab[i], std::fabs(b[i]));
    EXPECT_NEAR(sn[i], std::sin(b[i]), 2e-6f);
    EXPECT_NEAR(cs[i], std::cos(b[i]), 2e-6f);
    EXPECT_NEAR(ef[i], std::erf(b[i]), 1e-6f);
  }
}

TEST(Kernel, CompareAndSelect) {
  auto a = randomValues(20, 4), b = randomValues(20, 5);
  b[3] = a[3]; // a tie
  const char *dirs[] = {"EQ", "NE", "LT", "LE", "GT", "GE"};
  std::function<bool(float, float)> refs[] = {
      [](float x, float y) { return x == y; }, [](float x, float y) { return x != y; },
      [](float x, float y) { return x < y; },  [](float x, float y) { return x <= y; },
      [](float x, float y) { return x > y; },  [](float x, float y) { return x >= y; }};
  for (int d = 0; d < 6; ++d) {
    KernelSpec cmp = spec("compare", {f32({20}), f32({20})}, {DType::i1, {20}});
    cmp.direction = dirs[d];
    std::vector<uint8_t> mask(20);
    ASSERT_EQ(kiln::runKernel(cmp, {a.data(), b.data()}, mask.data()), "");
    for (int i = 0; i < 20; ++i)
      EXPECT_EQ(mask[i], refs[d](a[i], b[i]) ? 1 : 0) << dirs[d] << " element " << i;
    KernelSpec sel = spec("select", {{DType::i1, {20}}, f32({20}), f32({20})}, f32({20}));
    std::vector<float> out(20);
    ASSERT_EQ(kiln::runKernel(sel, {mask.data(), a.data(), b.data()}, out.data()), "");
    for (int i = 0; i < 20; ++i)
      EXPECT_EQ(out[i], mask[i] ? a[i] : b[i]);
  }
}

TEST(Kernel, Constant) {
  KernelSpec s = spec("constant", {}, f32({2, 9}));
  s.values = {1.25f};
  for (float v : run(s, {}))
    EXPECT_EQ(v, 1.25f);
  s.values = randomValues(18, 6);
  EXPECT_EQ(run(s, {}), s.values);
}

TEST(Kernel, BroadcastInDim) {
  // [3] -> [4, 3] along dimension 1; [2, 1] -> [5, 2, 6] along dimensions 1, 2.
  auto a = randomValues(3, 7);
  auto out = run(spec("broadcast_in_dim", {f32({3})}, f32({4, 3}), {1}), {a});
  for (int i = 0; i < 4; ++i)
    for (int j = 0; j < 3; ++j)
      EXPECT_EQ(out[i * 3 + j], a[j]);
  auto b = randomValues(2, 8);
  auto out2 = run(spec("broadcast_in_dim", {f32({2, 1})}, f32({5, 2, 6}), {1, 2}), {b});
  for (int i = 0; i < 5; ++i)
    for (int j = 0; j < 2; ++j)
      for (int k = 0; k < 6; ++k)
        EXPECT_EQ(out2[(i * 2 + j) * 6 + k], b[j]);
  auto c = randomValues(1, 9);
  auto out3 = run(spec("broadcast_in_dim", {f32({})}, f32({3, 17}), {}), {c});
  for (float v : out3)
    EXPECT_EQ(v, c[0]);
}

TEST(Kernel, ReshapeKeepsRowMajorOrder) {
  auto a = randomValues(24, 10);
  EXPECT_EQ(run(spec("reshape", {f32({4, 6})}, f32({2, 3, 4})), {a}), a);
}

TEST(Kernel, Transpose) {
  auto a = randomValues(2 * 3 * 4, 11);
  auto out = run(spec("transpose", {f32({2, 3, 4})}, f32({4, 2, 3}), {2, 0, 1}), {a});
  for (int i = 0; i < 2; ++i)
    for (int j = 0; j < 3; ++j)
      for (int k = 0; k < 4; ++k)
        EXPECT_EQ(out[(k * 2 + i) * 3 + j], a[(i * 3 + j) * 4 + k]);
}

TEST(Kernel, Reductions) {
  auto a = randomValues(5 * 19, 12);
  auto rows = run(spec("reduce_sum", {f32({5, 19})}, f32({19}), {0}), {a});
  auto cols = run(spec("reduce_mean", {f32({5, 19})}, f32({5}), {1}), {a});
  auto all = run(spec("reduce_sum", {f32({5, 19})}, f32({}), {0, 1}), {a});
  float total = 0;
  for (int j = 0; j < 19; ++j) {
    float s = 0;
    for (int i = 0; i < 5; ++i)
      s += a[i * 19 + j];
    EXPECT_NEAR(rows[j], s, 1e-5f);
  }
  for (int i = 0; i < 5; ++i) {
    float s = 0;
    for (int j = 0; j < 19; ++j)
      s += a[i * 19 + j];
    total += s;
    EXPECT_NEAR(cols[i], s / 19, 1e-5f);
  }
  EXPECT_NEAR(all[0], total, 1e-4f);
}

// Reductions that read 2^17+ elements: a bias gradient splits its channels over threads; a
// column max of a tall matrix keeps its one output dimension vectorized and serial.
TEST(Kernel, LargeReductionsRunInParallel) {
  auto a = randomValues(20 * 7 * 30 * 40, 21);
  auto bias = run(spec("reduce_sum", {f32({20, 7, 30, 40})}, f32({7}), {0, 2, 3}), {a});
  for (int c = 0; c < 7; ++c) {
    double s = 0;
    for (int n = 0; n < 20; ++n)
      for (int i = 0; i < 30 * 40; ++i)
        s += a[(n * 7 + c) * 1200 + i];
    EXPECT_NEAR(bias[c], s, 2e-3) << "channel " << c;
  }
  std::string words =
      scheduleWords(kiln::FusedKernel::of(spec("reduce_sum", {f32({20, 7, 30, 40})}, f32({7}), {0, 2, 3})));
  EXPECT_NE(words.find("parallel over its outermost output dimension"), std::string::npos) << words;
  auto b = randomValues(4000 * 40, 22);
  auto cols = run(spec("reduce_max", {f32({4000, 40})}, f32({40}), {0}), {b});
  for (int j = 0; j < 40; ++j) {
    float m = -INFINITY;
    for (int i = 0; i < 4000; ++i)
      m = std::max(m, b[i * 40 + j]);
    EXPECT_EQ(cols[j], m) << "column " << j;
  }
}

TEST(Kernel, ReduceMax) {
  auto a = randomValues(4 * 21, 15);
  auto out = run(spec("reduce_max", {f32({4, 21})}, f32({4}), {1}), {a});
  for (int i = 0; i < 4; ++i) {
    float m = -INFINITY;
    for (int j = 0; j < 21; ++j)
      m = std::max(m, a[i * 21 + j]);
    EXPECT_EQ(out[i], m);
  }
}

TEST(Kernel, OneHot) {
  std::vector<int32_t> labels = {0, 3, 1, 9, -1, 2}; // 9 and -1 are out of range
  KernelSpec s = spec("one_hot", {{DType::i32, {6}}}, f32({6, 4}));
  std::vector<float> out(24);
  ASSERT_EQ(kiln::runKernel(s, {labels.data()}, out.data()), "");
  for (int i = 0; i < 6; ++i)
    for (int c = 0; c < 4; ++c)
      EXPECT_EQ(out[i * 4 + c], labels[i] == c ? 1.0f : 0.0f) << i << "," << c;
}

void checkMatmul(int m, int k, int n, float tolerance) {
  auto a = randomValues(m * k, 13), b = randomValues(k * n, 14);
  auto out = run(spec("matmul", {f32({m, k}), f32({k, n})}, f32({m, n})), {a, b});
  for (int i = 0; i < m; ++i)
    for (int j = 0; j < n; ++j) {
      float s = 0;
      for (int r = 0; r < k; ++r)
        s += a[i * k + r] * b[r * n + j];
      ASSERT_NEAR(out[i * n + j], s, tolerance) << m << "x" << k << "x" << n << " at " << i << "," << j;
    }
}

// A narrow output with a long reduction takes the vectorized-reduction schedule: partial sums
// per lane where the reduction is whole vectors, else one vectorized reduction per output.
TEST(Kernel, MatmulNarrowAndDeep) {
  checkMatmul(7, 100, 10, 1e-4f);
  checkMatmul(9, 256, 10, 1e-4f);
  checkMatmul(3, 64, 1, 1e-4f);
}

// Small, and the CNN's Linear input gradient (a short reduction into a wide output).
TEST(Kernel, Matmul) {
  checkMatmul(7, 5, 33, 1e-5f);
  checkMatmul(50, 10, 1568, 1e-5f);
}

// A weight gradient as the fuse pass leaves it: x^T dy, the transpose read inside the kernel.
// Narrow outputs take the outer-product schedule, vectorized over n or over m.
// `schedule` is the words the matmul's schedule must contain ("" for the ordinary one).
// Returns the schedule's words.
std::string checkTransposedMatmul(int m, int k, int n, bool transposeRhs, const std::string &schedule) {
  auto a = randomValues(k * m, 15), b = randomValues(k * n, 16); // a is [k, m]; b [k, n] or [n, k]
  kiln::FusedKernel fk;
  fk.name = "test_xt_dy";
  fk.inputs = {f32({k, m}), transposeRhs ? f32({n, k}) : f32({k, n})};
  fk.nodes.push_back({spec("transpose", {f32({k, m})}, f32({m, k}), {1, 0}), {-1}});
  if (transposeRhs) {
    fk.nodes.push_back({spec("transpose", {f32({n, k})}, f32({k, n}), {1, 0}), {-2}});
    fk.nodes.push_back({spec("matmul", {f32({m, k}), f32({k, n})}, f32({m, n})), {0, 1}});
  } else {
    fk.nodes.push_back({spec("matmul", {f32({m, k}), f32({k, n})}, f32({m, n})), {0, -2}});
  }
  fk.outputs = {int(fk.nodes.size()) - 1};
  std::string words = scheduleWords(fk);
  if (schedule.empty())
    EXPECT_EQ(words.find("outer products"), std::string::npos) << words;
  else if (schedule != "*") // "*": any schedule
    EXPECT_NE(words.find(schedule), std::string::npos) << m << "x" << k << "x" << n << ": " << words;
  std::vector<float> out(m * n);
  EXPECT_EQ(kiln::runKernel(fk, {a.data(), b.data()}, {out.data()}), "");
  for (int i = 0; i < m; ++i)
    for (int j = 0; j < n; ++j) {
      float s = 0;
      for (int r = 0; r < k; ++r)
        s += a[r * m + i] * (transposeRhs ? b[j * k + r] : b[r * n + j]);
      EXPECT_NEAR(out[i * n + j], s, 1e-4f) << m << "x" << k << "x" << n << " at " << i << "," << j;
      if (std::abs(out[i * n + j] - s) > 1e-4f)
        return words;
    }
  return words;
}

TEST(Kernel, MatmulOfTransposedNarrow) {
  const int lanes = kiln::hostVectorLanes();
  const std::string over = "outer products over the reduction of ";
  // m = 10 fits one vector of 16 lanes; with 8 the vector runs over 8 of the rows at a time.
  checkTransposedMatmul(10, 200, 2, false, over + "200, " + std::to_string(std::min(10, lanes)) + " lanes over m");
  checkTransposedMatmul(2, 200, lanes / 2 + 2, false, over + "200, " + std::to_string(lanes / 2 + 2) + " lanes over n");
  // A column taller than a vector: whole vectors, then a masked one.
  checkTransposedMatmul(lanes + 4, 32, 1, false, over + "32, " + std::to_string(lanes) + " lanes over m");
  // Both operands transposed: the right one's rows are strided too, so the vector runs over m.
  checkTransposedMatmul(3, 50, lanes / 2 + 1, true, over + "50, 3 lanes over m");
  checkTransposedMatmul(10, 50, 1568, false, ""); // wide: the ordinary schedule
}

// Products of every size class, each operand plain or transposed (as the fuse pass leaves a
// weight gradient or a Linear forward): single rows and columns, sizes that are no multiple of
// a vector, and the register-tiled sizes.
TEST(Kernel, MatmulShapeGrid) {
  std::string schedules;
  for (int m : {1, 3, 17, 64})
    for (int k : {1, 5, 33})
      for (int n : {1, 5, 17, 40}) {
        SCOPED_TRACE(::testing::Message() << m << "x" << k << "x" << n);
        checkMatmul(m, k, n, 1e-4f);
        for (bool transposeRhs : {false, true})
          schedules += checkTransposedMatmul(m, k, n, transposeRhs, "*");
        if (HasFailure())
          return;
      }
  EXPECT_NE(schedules.find("register tile"), std::string::npos) << schedules;
  EXPECT_NE(schedules.find("transposed rhs copied"), std::string::npos) << schedules;
  EXPECT_NE(schedules.find("outer products"), std::string::npos) << schedules;
}

// A tall product with few column blocks splits its rows over threads; a wide one its columns.
// Both are large enough (2^22 multiply-adds) to split at 8 lanes as at 16.
TEST(Kernel, LargeMatmulsRunInParallel) {
  const int lanes = kiln::hostVectorLanes();
  const std::string tall = checkTransposedMatmul(4096, 160, lanes + 4, true, "*");
  EXPECT_NE(tall.find("parallel over row blocks"), std::string::npos) << tall;
  const std::string wide = checkTransposedMatmul(64, 600, 16 * lanes, false, "*");
  EXPECT_NE(wide.find("parallel over column blocks"), std::string::npos) << wide;
}

// Every reduction over every set of axes of a rank-3 tensor with odd extents.
TEST(Kernel, ReductionAxisGrid) {
  const std::vector<int64_t> shape = {3, 5, 17};
  auto x = randomValues(3 * 5 * 17, 21);
  for (int mask = 1; mask < 8; ++mask) {
    std::vector<int64_t> dims, kept;
    for (int d = 0; d < 3; ++d)
      (mask & (1 << d) ? dims : kept).push_back(d);
    std::vector<int64_t> outShape;
    for (int64_t d : kept)
      outShape.push_back(shape[d]);
    int64_t outCount = 1;
    for (int64_t e : outShape)
      outCount *= e;
    for (const char *op : {"reduce_sum", "reduce_mean", "reduce_max"}) {
      SCOPED_TRACE(::testing::Message() << op << " axes mask " << mask);
      std::vector<float> want(outCount, std::string(op) == "reduce_max" ? -INFINITY : 0.0f);
      std::vector<int> count(outCount, 0);
      for (int64_t i = 0; i < 3; ++i)
        for (int64_t j = 0; j < 5; ++j)
          for (int64_t l = 0; l < 17; ++l) {
            int64_t idx[3] = {i, j, l}, o = 0;
            for (int64_t d : kept)
              o = o * shape[d] + idx[d];
            float v = x[(i * 5 + j) * 17 + l];
            want[o] = std::string(op) == "reduce_max" ? std::max(want[o], v) : want[o] + v;
            ++count[o];
          }
      if (std::string(op) == "reduce_mean")
        for (int64_t o = 0; o < outCount; ++o)
          want[o] /= float(count[o]);
      auto got = run(spec(op, {f32(shape)}, f32(outShape), dims), {x});
      for (int64_t o = 0; o < outCount; ++o)
        ASSERT_NEAR(got[o], want[o], 1e-4f) << "output " << o;
    }
  }
}

} // namespace

namespace {
// An i1 `true` constant is stored as 1 (not the sign-extended -1).
TEST(Kernel, TrueMaskConstant) {
  kiln::KernelSpec s;
  s.name = "test_true";
  setPrimitive(s, "constant");
  s.output = {kiln::DType::i1, {5}};
  s.values = {1.0f};
  std::vector<uint8_t> out(5, 7);
  ASSERT_EQ(kiln::runKernel(s, {}, out.data()), "");
  for (uint8_t v : out)
    EXPECT_EQ(v, 1);
}
} // namespace

#include "ir/Dialect.h"

namespace {
// Codegen's primitives and the dialect's ops agree: every primitive is an op with one kind
// trait, and every kiln op but the kernel region, its terminator and the collectives between
// kernels is a primitive.
TEST(Kernel, PrimitivesAreTheDialectsOps) {
  std::vector<kiln::Primitive> all = {
#define KILN_TEST_ENTRY(name) kiln::Primitive::name,
      KILN_PRIMITIVES(KILN_TEST_ENTRY)
#undef KILN_TEST_ENTRY
  };
  for (kiln::Primitive p : all)
    EXPECT_TRUE(familyOf(p).has_value()) << kiln::mnemonic(p) << " has no kiln op with a kind trait";
  mlir::MLIRContext context;
  context.loadDialect<kiln::KilnDialect>();
  int ops = 0;
  for (mlir::RegisteredOperationName name : context.getRegisteredOperations()) {
    if (name.getDialectNamespace() != "kiln" || name.hasTrait<mlir::OpTrait::IsTerminator>() ||
        name.hasTrait<mlir::OpTrait::IsIsolatedFromAbove>() || name.hasTrait<kiln::OpTrait::Communication>())
      continue;
    ++ops;
    EXPECT_TRUE(kiln::primitiveNamed(name.stripDialect().str()).has_value())
        << name.getStringRef().str() << " has no lowering";
  }
  EXPECT_EQ(ops, int(all.size()));
}
} // namespace
