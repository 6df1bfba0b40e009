// Convolution and pooling kernels (Halide JIT) against plain reference loops.
#include "codegen/KernelSpec.h"
#include "primitive_util.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>

namespace {

using kiln::DType;
using kiln::KernelSpec;

std::vector<float> randomValues(size_t n, unsigned seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(-1, 1);
  std::vector<float> v(n);
  for (float &x : v)
    x = u(rng);
  return v;
}

size_t count(const std::vector<int64_t> &s) {
  size_t n = 1;
  for (int64_t d : s)
    n *= size_t(d);
  return n;
}

std::vector<float> run(const KernelSpec &spec, const std::vector<std::vector<float>> &inputs) {
  std::vector<const void *> ptrs;
  for (const auto &in : inputs)
    ptrs.push_back(in.data());
  std::vector<float> out(count(spec.output.shape));
  EXPECT_EQ(kiln::runKernel(spec, ptrs, out.data()), "");
  return out;
}

struct Geometry {
  int64_t n, c, h, w, o, kh, kw, sh, sw, ph, pw, dh, dw;
  int64_t oh() const { return (h + 2 * ph - dh * (kh - 1) - 1) / sh + 1; }
  int64_t ow() const { return (w + 2 * pw - dw * (kw - 1) - 1) / sw + 1; }
  std::vector<int64_t> x() const { return {n, c, h, w}; }
  std::vector<int64_t> f() const { return {o, c, kh, kw}; }
  std::vector<int64_t> y() const { return {n, o, oh(), ow()}; }
};

KernelSpec convSpec(const char *op, const Geometry &g, std::vector<int64_t> a, std::vector<int64_t> b,
                    std::vector<int64_t> out) {
  KernelSpec s;
  s.name = std::string("test_") + op;
  setPrimitive(s, op);
  s.inputs = {{DType::f32, a}, {DType::f32, b}};
  s.output = {DType::f32, out};
  s.stride = {g.sh, g.sw};
  s.padding = {g.ph, g.pw};
  s.dilation = {g.dh, g.dw};
  return s;
}

// Visits every (n, o, i, j, c, p, q) term of the convolution whose input position is inside.
template <typename F> void forEachTerm(const Geometry &g, F f) {
  for (int64_t n = 0; n < g.n; ++n)
    for (int64_t o = 0; o < g.o; ++o)
      for (int64_t i = 0; i < g.oh(); ++i)
        for (int64_t j = 0; j < g.ow(); ++j)
          for (int64_t c = 0; c < g.c; ++c)
            for (int64_t p = 0; p < g.kh; ++p)
              for (int64_t q = 0; q < g.kw; ++q) {
                int64_t h = i * g.sh - g.ph + p * g.dh, w = j * g.sw - g.pw + q * g.dw;
                if (h >= 0 && h < g.h && w >= 0 && w < g.w) {
                  size_t xi = ((n * g.c + c) * g.h + h) * g.w + w;
                  size_t fi = ((o * g.c + c) * g.kh + p) * g.kw + q;
                  size_t yi = ((n * g.o + o) * g.oh() + i) * g.ow() + j;
                  f(xi, fi, yi);
                }
              }
}

void checkConvolution(const Geometry &g) {
  auto x = randomValues(count(g.x()), 1), f = randomValues(count(g.f()), 2), dy = randomValues(count(g.y()), 3);
  std::vector<float> y(count(g.y())), dx(count(g.x())), df(count(g.f()));
  forEachTerm(g, [&](size_t xi, size_t fi, size_t yi) {
    y[yi] += x[xi] * f[fi];
    dx[xi] += dy[yi] * f[fi];
    df[fi] += dy[yi] * x[xi];
  });
  auto gotY = run(convSpec("conv2d", g, g.x(), g.f(), g.y()), {x, f});
  auto gotDx = run(convSpec("conv2d_input_grad", g, g.y(), g.f(), g.x()), {dy, f});
  auto gotDf = run(convSpec("conv2d_filter_grad", g, g.x(), g.y(), g.f()), {x, dy});
  for (size_t i = 0; i < y.size(); ++i)
    ASSERT_NEAR(gotY[i], y[i], 1e-4f) << "conv2d element " << i;
  for (size_t i = 0; i < dx.size(); ++i)
    ASSERT_NEAR(gotDx[i], dx[i], 1e-4f) << "conv2d_input_grad element " << i;
  for (size_t i = 0; i < df.size(); ++i)
    ASSERT_NEAR(gotDf[i], df[i], 1e-3f) << "conv2d_filter_grad element " << i;
}

// The CNN's two layers, then stride, dilation and asymmetric geometry.
TEST(ConvKernel, Conv1OfTheCnn) { checkConvolution({2, 1, 28, 28, 16, 5, 5, 1, 1, 2, 2, 1, 1}); }
// One input channel takes the row-vector tile: a row of 18 covers its tail by overlapping.
TEST(ConvKernel, OneChannelRowTileWithStride) { checkConvolution({2, 1, 40, 36, 8, 3, 3, 2, 2, 1, 1, 1, 1}); }
TEST(ConvKernel, Conv2OfTheCnn) { checkConvolution({2, 16, 14, 14, 32, 5, 5, 1, 1, 2, 2, 1, 1}); }
TEST(ConvKernel, StrideAndPadding) { checkConvolution({2, 3, 11, 9, 4, 3, 3, 2, 2, 1, 1, 1, 1}); }
TEST(ConvKernel, Dilation) {
  checkConvolution({1, 2, 12, 10, 3, 3, 2, 1, 2, 2, 0, 2, 3});
  // Few channels at stride 1: every form takes vectors along rows, dilated.
  checkConvolution({2, 3, 12, 20, 5, 3, 3, 1, 1, 2, 2, 2, 2});
}
// Strided input gradients by phase: strides that do not divide the filter, unequal strides,
// a stride larger than the filter, and channels past a vector.
TEST(ConvKernel, StridesAgainstFilterSizes) {
  checkConvolution({2, 5, 13, 17, 3, 5, 5, 3, 3, 2, 2, 1, 1});
  checkConvolution({2, 18, 12, 11, 4, 4, 3, 2, 3, 1, 1, 1, 1});
  checkConvolution({1, 3, 9, 10, 2, 2, 2, 3, 3, 0, 0, 1, 1});
  checkConvolution({2, 20, 10, 10, 20, 3, 3, 2, 2, 1, 1, 1, 1});
}
// Strided and dilated: the taps meeting a column's phase repeat every stride / gcd(stride,
// dilation) taps, and phases the gcd does not divide meet none.
TEST(ConvKernel, StridedAndDilated) {
  checkConvolution({2, 7, 17, 16, 9, 3, 3, 3, 3, 0, 0, 2, 2});
  checkConvolution({1, 5, 14, 15, 18, 4, 4, 3, 3, 1, 1, 2, 2});
  checkConvolution({2, 3, 13, 14, 5, 3, 3, 2, 2, 1, 1, 2, 2});
  checkConvolution({1, 4, 19, 18, 6, 3, 2, 4, 3, 2, 1, 2, 3});
}
TEST(ConvKernel, NoPaddingOddSizes) { checkConvolution({3, 2, 7, 6, 5, 4, 3, 3, 2, 0, 0, 1, 1}); }
// One-column images and filter rows wholly in the padding (pad 3 > the 3-row filter's reach).
TEST(ConvKernel, OneColumnAndDeepPadding) {
  checkConvolution({2, 2, 5, 1, 3, 3, 1, 1, 1, 1, 0, 1, 1});
  checkConvolution({1, 3, 4, 9, 18, 3, 3, 1, 1, 3, 1, 1, 1});
}

// Every convolution schedule family over odd shapes: channel counts that fill no vector or
// part of one (1, 3, 5, 17, on either side), rows of 5 and 27, filters 1, 3 and 7, stride 1 and
// 2, padding 0 and 3. Both vector orientations must be exercised.
TEST(ConvKernel, OddShapeGrid) {
  const std::pair<int64_t, int64_t> channels[] = {{1, 3}, {3, 5}, {5, 17}, {17, 1}, {17, 5}};
  std::string schedules;
  for (auto [c, o] : channels)
    for (int64_t w : {5, 27})
      for (int64_t k : {1, 3, 7})
        for (int64_t s : {1, 2})
          for (int64_t p : {0, 3}) {
            Geometry g{2, c, w == 5 ? 6 : 9, w, o, k, k, s, s, p, p, 1, 1};
            if (g.oh() <= 0 || g.ow() <= 0)
              continue;
            SCOPED_TRACE(::testing::Message()
                         << "c " << c << " o " << o << " w " << w << " k " << k << " s " << s << " p " << p);
            checkConvolution(g);
            for (const char *op : {"conv2d", "conv2d_input_grad", "conv2d_filter_grad"}) {
              auto shapes = std::string(op) == "conv2d"              ? std::vector{g.x(), g.f(), g.y()}
                            : std::string(op) == "conv2d_input_grad" ? std::vector{g.y(), g.f(), g.x()}
                                                                     : std::vector{g.x(), g.y(), g.f()};
              for (const std::string &note :
                   kiln::describeSchedule(kiln::FusedKernel::of(convSpec(op, g, shapes[0], shapes[1], shapes[2]))))
                schedules += note + "\n";
            }
            if (HasFatalFailure())
              return;
          }
  EXPECT_NE(schedules.find("row vectors"), std::string::npos);
  EXPECT_NE(schedules.find("vectors along dy's rows"), std::string::npos);
  EXPECT_NE(schedules.find("output-channel vectors x one filter row"), std::string::npos);
  EXPECT_NE(schedules.find("output-channel vectors x every filter tap"), std::string::npos);
  EXPECT_NE(schedules.find("register tile"), std::string::npos);
}

struct Pool {
  int64_t n, c, h, w, kh, kw, sh, sw, ph, pw;
  int64_t oh() const { return (h + 2 * ph - kh) / sh + 1; }
  int64_t ow() const { return (w + 2 * pw - kw) / sw + 1; }
};

KernelSpec poolSpec(const char *op, const Pool &g, std::vector<std::vector<int64_t>> inputs, std::vector<int64_t> out) {
  KernelSpec s;
  s.name = std::string("test_") + op;
  setPrimitive(s, op);
  for (auto &shape : inputs)
    s.inputs.push_back({DType::f32, shape});
  s.output = {DType::f32, out};
  s.window = {g.kh, g.kw};
  s.stride = {g.sh, g.sw};
  s.padding = {g.ph, g.pw};
  return s;
}

void checkPooling(const Pool &g, bool withTies) {
  std::vector<int64_t> xs = {g.n, g.c, g.h, g.w}, ys = {g.n, g.c, g.oh(), g.ow()};
  auto x = randomValues(count(xs), 4), dy = randomValues(count(ys), 5);
  if (withTies) // few distinct values: many windows hold several equal maxima
    for (float &v : x)
      v = std::round(v * 2) / 2;
  std::vector<float> maxY(count(ys)), avgY(count(ys)), maxDx(count(xs)), avgDx(count(xs));
  for (int64_t n = 0; n < g.n; ++n)
    for (int64_t c = 0; c < g.c; ++c)
      for (int64_t i = 0; i < g.oh(); ++i)
        for (int64_t j = 0; j < g.ow(); ++j) {
          size_t yi = ((n * g.c + c) * g.oh() + i) * g.ow() + j;
          float best = -std::numeric_limits<float>::infinity(), total = 0;
          size_t bestAt = 0;
          bool found = false;
          for (int64_t p = 0; p < g.kh; ++p) // row-major: the first maximum wins ties
            for (int64_t q = 0; q < g.kw; ++q) {
              int64_t h = i * g.sh - g.ph + p, w = j * g.sw - g.pw + q;
              if (h < 0 || h >= g.h || w < 0 || w >= g.w)
                continue;
              size_t xi = ((n * g.c + c) * g.h + h) * g.w + w;
              total += x[xi];
              avgDx[xi] += dy[yi] / float(g.kh * g.kw);
              if (!found || x[xi] > best)
                best = x[xi], bestAt = xi, found = true;
            }
          maxY[yi] = best;
          avgY[yi] = total / float(g.kh * g.kw);
          maxDx[bestAt] += dy[yi];
        }
  auto gotMax = run(poolSpec("max_pool2d", g, {xs}, ys), {x});
  auto gotAvg = run(poolSpec("avg_pool2d", g, {xs}, ys), {x});
  auto gotMaxDx = run(poolSpec("max_pool2d_grad", g, {xs, ys}, xs), {x, dy});
  auto gotAvgDx = run(poolSpec("avg_pool2d_grad", g, {ys}, xs), {dy});
  for (size_t i = 0; i < maxY.size(); ++i) {
    ASSERT_EQ(gotMax[i], maxY[i]) << "max_pool2d element " << i;
    ASSERT_NEAR(gotAvg[i], avgY[i], 1e-6f) << "avg_pool2d element " << i;
  }
  for (size_t i = 0; i < maxDx.size(); ++i) {
    ASSERT_NEAR(gotMaxDx[i], maxDx[i], 1e-6f) << "max_pool2d_grad element " << i;
    ASSERT_NEAR(gotAvgDx[i], avgDx[i], 1e-6f) << "avg_pool2d_grad element " << i;
  }
}

TEST(PoolKernel, TwoByTwoOfTheCnn) { checkPooling({2, 3, 28, 28, 2, 2, 2, 2, 0, 0}, false); }
TEST(PoolKernel, TiesGoToTheFirstMaximum) { checkPooling({2, 3, 14, 14, 2, 2, 2, 2, 0, 0}, true); }
TEST(PoolKernel, OverlappingWindowsWithPadding) { checkPooling({2, 2, 9, 8, 3, 3, 2, 2, 1, 1}, true); }
TEST(PoolKernel, OddSizesDropTheRemainder) { checkPooling({1, 2, 7, 5, 2, 2, 2, 2, 0, 0}, false); }
TEST(PoolKernel, GlobalWindows) {
  checkPooling({2, 5, 14, 14, 14, 14, 14, 14, 0, 0}, false);
  checkPooling({3, 17, 7, 9, 7, 9, 1, 1, 0, 0}, false);
}
// Windows that overlap down the columns by much pool in two passes, rows then columns; others
// in one.
TEST(PoolKernel, SeparableWhereWindowsOverlap) {
  auto schedule = [](const Pool &g) {
    std::vector<int64_t> xs = {g.n, g.c, g.h, g.w}, ys = {g.n, g.c, g.oh(), g.ow()};
    std::string notes;
    for (const std::string &note : kiln::describeSchedule(kiln::FusedKernel::of(poolSpec("max_pool2d", g, {xs}, ys))))
      notes += note;
    return notes;
  };
  EXPECT_NE(schedule({2, 3, 9, 9, 5, 5, 1, 1, 2, 2}).find("a pass along rows"), std::string::npos);
  EXPECT_EQ(schedule({2, 3, 9, 9, 3, 3, 1, 1, 1, 1}).find("a pass along rows"), std::string::npos);
  EXPECT_NE(schedule({2, 3, 15, 11, 7, 7, 2, 2, 3, 3}).find("a pass along rows"), std::string::npos);
  checkPooling({2, 5, 12, 13, 5, 5, 1, 1, 2, 2}, true);
  checkPooling({2, 3, 15, 11, 7, 7, 2, 2, 3, 3}, false);
  EXPECT_EQ(schedule({2, 3, 8, 8, 2, 2, 2, 2, 0, 0}).find("a pass along rows"), std::string::npos);
}
// Windows larger than their stride by several steps, with padding: up to 3 windows reach a
// position along each axis.
TEST(PoolKernel, LargeOverlappingWindows) {
  checkPooling({2, 3, 13, 11, 7, 5, 3, 2, 3, 2}, false);
  checkPooling({1, 4, 9, 17, 5, 5, 2, 1, 2, 2}, true);
}

// Many windows reach each position (large windows at stride 1): the max-pool gradient scatters
// each window's adjoint to its first maximum, found along rows then columns; the average's
// gathers the windows down the columns, then along rows. Strided windows gather by phase.
TEST(PoolKernel, ManyWindowsPerPosition) {
  auto schedule = [](const char *op, const Pool &g) {
    std::vector<int64_t> xs = {g.n, g.c, g.h, g.w}, ys = {g.n, g.c, g.oh(), g.ow()};
    std::vector<std::vector<int64_t>> in{xs, ys};
    if (std::string(op) == "avg_pool2d_grad")
      in = {ys};
    std::string notes;
    for (const std::string &note : kiln::describeSchedule(kiln::FusedKernel::of(poolSpec(op, g, in, xs))))
      notes += note;
    return notes;
  };
  Pool big{2, 3, 20, 19, 12, 12, 1, 1, 0, 0}, padded{2, 2, 18, 17, 9, 7, 1, 1, 4, 3},
      strided{2, 3, 27, 27, 3, 3, 2, 2, 0, 0};
  EXPECT_NE(schedule("max_pool2d_grad", big).find("along rows, then columns"), std::string::npos);
  EXPECT_NE(schedule("avg_pool2d_grad", big).find("summed down the columns first"), std::string::npos);
  EXPECT_NE(schedule("avg_pool2d_grad", strided).find("phases of the stride unrolled"), std::string::npos);
  EXPECT_NE(schedule("max_pool2d_grad", strided).find("phases of the stride unrolled"), std::string::npos);
  checkPooling(big, false);
  checkPooling(big, true);
  checkPooling(padded, true);
  checkPooling({1, 2, 23, 21, 8, 6, 3, 2, 2, 1}, true);
}

// Pooling over odd shapes: windows 2 and 3, strides 1 to 3, rows of 5 and 27, 3 and 17 channels.
TEST(PoolKernel, OddShapeGrid) {
  for (int64_t c : {3, 17})
    for (int64_t w : {5, 27})
      for (int64_t k : {2, 3})
        for (int64_t s : {1, 2, 3}) {
          SCOPED_TRACE(::testing::Message() << "c " << c << " w " << w << " k " << k << " s " << s);
          checkPooling({2, c, 7, w, k, k, s, s, 0, 0}, true);
          if (HasFatalFailure())
            return;
        }
}

} // namespace
