// The generator op and dropout: Philox4x32-10 as a plain reference (checked against the
// published known-answer vectors), the Halide kernel bit for bit against it, and dropout's
// statistics, scaling and train/eval behaviour through the traced DSL.
#include "codegen/Evaluate.h"
#include "frontend/TraceImpl.h"
#include "kiln/nn.h"
#include "primitive_util.h"

#include "error_of.h"

#include <gtest/gtest.h>

#include <array>
#include <cstring>

namespace {

using Words = std::array<uint32_t, 4>;

// Philox4x32-10 written out from the paper's description (Salmon et al., SC 2011).
Words philoxReference(Words c, uint32_t k0, uint32_t k1) {
  for (int round = 0; round < 10; ++round) {
    if (round > 0) {
      k0 += 0x9E3779B9u;
      k1 += 0xBB67AE85u;
    }
    uint64_t p0 = uint64_t(0xD2511F53u) * c[0], p1 = uint64_t(0xCD9E8D57u) * c[2];
    c = {uint32_t(p1 >> 32) ^ c[1] ^ k0, uint32_t(p1), uint32_t(p0 >> 32) ^ c[3] ^ k1, uint32_t(p0)};
  }
  return c;
}

// The known-answer vectors published with Random123 (kat_vectors, philox4x32 with 10 rounds).
TEST(Random, PhiloxReferenceMatchesKnownAnswers) {
  EXPECT_EQ(philoxReference({0, 0, 0, 0}, 0, 0), (Words{0x6627e8d5u, 0xe169c58du, 0xbc57ac4cu, 0x9b00dbd8u}));
  EXPECT_EQ(philoxReference({~0u, ~0u, ~0u, ~0u}, ~0u, ~0u),
            (Words{0x408f276du, 0x41c83b0eu, 0xa20bc7c6u, 0x6d5451fdu}));
  EXPECT_EQ(philoxReference({0x243f6a88u, 0x85a308d3u, 0x13198a2eu, 0x03707344u}, 0xa4093822u, 0x299f31d0u),
            (Words{0xd16cfe09u, 0x94fdccebu, 0x5001e420u, 0x24126ea1u}));
}

float uniformReference(uint32_t index, uint32_t stream, const std::array<int32_t, 4> &key) {
  Words c = {index, stream, uint32_t(key[2]), uint32_t(key[3])};
  return float(philoxReference(c, uint32_t(key[0]), uint32_t(key[1]))[0] >> 8) * 0x1.0p-24f;
}

std::vector<float> runRandom(const std::vector<int64_t> &shape, int64_t stream, const std::array<int32_t, 4> &key) {
  kiln::KernelSpec s;
  s.name = "test_random_uniform";
  setPrimitive(s, "random_uniform");
  s.inputs = {{kiln::DType::i32, {4}}};
  s.output = {kiln::DType::f32, shape};
  s.stream = stream;
  std::vector<float> out(s.output.elements());
  EXPECT_EQ(kiln::runKernel(s, {key.data()}, out.data()), "");
  return out;
}

// Scalars, odd shapes (vector tails) and wide rows (whole vectors), several keys and streams:
// every element is the reference's, bit for bit. The last shape is large enough to run in
// parallel over its batch.
TEST(Random, KernelMatchesReference) {
  const std::vector<std::vector<int64_t>> shapes = {{}, {7}, {3, 5, 7}, {2, 1000}, {2, 3, 4, 5}, {5, 7, 61, 67}};
  const std::array<int32_t, 4> keys[] = {{0, 0, 1, 0}, {12345, 0, 77, 1}, {-1, -2, -3, 5}};
  for (const auto &shape : shapes)
    for (const auto &key : keys)
      for (int64_t stream : {int64_t(0), int64_t(1), int64_t(4000000000)}) {
        std::vector<float> out = runRandom(shape, stream, key);
        for (size_t i = 0; i < out.size(); ++i)
          ASSERT_EQ(out[i], uniformReference(uint32_t(i), uint32_t(stream), key))
              << "element " << i << " of shape rank " << shape.size() << ", stream " << stream;
      }
}

// Different steps, seeds, ranks and streams give unrelated numbers.
TEST(Random, EveryKeyWordAndTheStreamChangeTheNumbers) {
  const std::array<int32_t, 4> base = {9, 0, 3, 0};
  std::vector<float> ref = runRandom({1000}, 0, base);
  auto changedFraction = [&](const std::vector<float> &other) {
    int changed = 0;
    for (size_t i = 0; i < ref.size(); ++i)
      changed += other[i] != ref[i];
    return double(changed) / double(ref.size());
  };
  for (int word = 0; word < 4; ++word) {
    std::array<int32_t, 4> key = base;
    key[word] += 1;
    EXPECT_GT(changedFraction(runRandom({1000}, 0, key)), 0.99) << "key word " << word;
  }
  EXPECT_GT(changedFraction(runRandom({1000}, 1, base)), 0.99);
  EXPECT_EQ(changedFraction(runRandom({1000}, 0, base)), 0.0);
}

kiln::HostTensor keyTensor(const std::array<int32_t, 4> &key) {
  kiln::HostTensor t;
  t.desc = {kiln::DType::i32, {4}};
  t.bytes.resize(16);
  std::memcpy(t.bytes.data(), key.data(), 16);
  return t;
}

// Traces y = dropout(x, p) in a train entry and evaluates it on x for the key.
struct TracedDropout {
  kiln::Trace trace{"dropout"};
  std::vector<int64_t> shape;
  explicit TracedDropout(std::vector<int64_t> shape, double p) : shape(shape) {
    kiln::Tensor x = trace.input("x", shape);
    kiln::Tensor y = kiln::nn::functional::dropout(x, p);
    trace.output("y", y);
    std::vector<int64_t> all(shape.size());
    for (size_t d = 0; d < all.size(); ++d)
      all[d] = int64_t(d);
    trace.finish(y.sum(all));
  }
  std::vector<float> run(const std::vector<float> &x, const std::array<int32_t, 4> &key) {
    auto forward = trace.impl().module->lookupSymbol<mlir::func::FuncOp>("forward");
    std::vector<kiln::HostTensor> args;
    for (mlir::BlockArgument arg : forward.getArguments())
      args.push_back(forward.getArgAttr(arg.getArgNumber(), "kiln.random") ? keyTensor(key)
                                                                           : kiln::HostTensor::f32(shape, x));
    auto out = kiln::evaluate(forward, args);
    EXPECT_TRUE(mlir::succeeded(out));
    const kiln::HostTensor &y = (*out)[1];
    return std::vector<float>(y.floats(), y.floats() + y.desc.elements());
  }
};

// p = 0.5 over 10^6 elements: the kept fraction is 0.5 +- 0.002 (four standard deviations),
// every kept element is doubled and every other is 0.
TEST(Random, DropoutKeepsHalfAndDoublesThem) {
  TracedDropout d({1000, 1000}, 0.5);
  std::vector<float> x(1000000);
  for (size_t i = 0; i < x.size(); ++i)
    x[i] = 0.25f + float(i % 7);
  std::vector<float> y = d.run(x, {42, 0, 1, 0});
  int64_t kept = 0;
  for (size_t i = 0; i < y.size(); ++i) {
    if (y[i] != 0.0f) {
      ++kept;
      ASSERT_EQ(y[i], 2.0f * x[i]) << i;
    }
  }
  EXPECT_NEAR(double(kept) / 1e6, 0.5, 0.002);
}

// Another step draws another mask (about half the positions change); the same step, the same.
TEST(Random, DropoutMaskDiffersBetweenStepsAndRepeatsWithinOne) {
  TracedDropout d({200, 500}, 0.5);
  std::vector<float> ones(100000, 1.0f);
  std::vector<float> step1 = d.run(ones, {42, 0, 1, 0}), step2 = d.run(ones, {42, 0, 2, 0});
  EXPECT_EQ(d.run(ones, {42, 0, 1, 0}), step1);
  int64_t changed = 0;
  for (size_t i = 0; i < step1.size(); ++i)
    changed += step1[i] != step2[i];
  EXPECT_NEAR(double(changed) / double(step1.size()), 0.5, 0.01);
}

// p = 0 keeps every element unscaled (x exactly), p = 1 drops them all, and p = 0.25 keeps
// three quarters, scaled by 4/3 as PyTorch scales them.
TEST(Random, DropoutEdgeProbabilities) {
  std::vector<float> x(4096);
  for (size_t i = 0; i < x.size(); ++i)
    x[i] = float(i) * 0.37f - 100.0f;
  TracedDropout none({64, 64}, 0.0), all({64, 64}, 1.0), quarter({64, 64}, 0.25);
  EXPECT_EQ(none.run(x, {1, 2, 3, 4}), x);
  for (float v : all.run(x, {1, 2, 3, 4}))
    ASSERT_EQ(v, 0.0f);
  int kept = 0;
  std::vector<float> q = quarter.run(x, {1, 2, 3, 4});
  for (size_t i = 0; i < x.size(); ++i)
    if (q[i] != 0.0f || x[i] == 0.0f) {
      ++kept;
      ASSERT_EQ(q[i], x[i] * float(1.0 / 0.75)) << i;
    }
  EXPECT_NEAR(double(kept) / 4096.0, 0.75, 0.03);
}

// In the eval entry the Dropout layer is the identity: no generator op, no key argument.
TEST(Random, DropoutLayerIsTheIdentityInEval) {
  kiln::Trace trace("dropout_eval");
  kiln::nn::Dropout layer(0.5);
  kiln::Tensor x = trace.input("x", {4, 3});
  kiln::Tensor loss = layer(x).sum({0, 1});
  trace.begin("eval", kiln::EntryKind::eval, loss);
  kiln::Tensor ex = trace.input("x", {4, 3});
  kiln::Tensor ey = layer(ex);
  EXPECT_EQ(ey.value(), ex.value());
  std::string text = trace.finish(ey.sum({0, 1}));
  auto module = *trace.impl().module;
  auto eval = module.lookupSymbol<mlir::func::FuncOp>("eval");
  auto forward = module.lookupSymbol<mlir::func::FuncOp>("forward");
  int drawn = 0;
  eval.walk([&](kiln::RandomUniformOp) { ++drawn; });
  EXPECT_EQ(drawn, 0);
  forward.walk([&](kiln::RandomUniformOp) { ++drawn; });
  EXPECT_EQ(drawn, 1);
  EXPECT_EQ(layer.repr(), "Dropout(p=0.5, inplace=False)");
}

TEST(Random, BadProbabilitiesAndDrawsInEvalAreRefused) {
  EXPECT_NE(errorOf([] { kiln::nn::Dropout(1.5); }).find("between 0 and 1, but got 1.5"), std::string::npos);
  kiln::Trace trace("bad");
  kiln::Tensor x = trace.input("x", {4, 3});
  std::string message = errorOf([&] { kiln::nn::functional::dropout(x, -0.1); });
  EXPECT_NE(message.find("random_test.cpp:"), std::string::npos) << message;
  EXPECT_NE(message.find("between 0 and 1, but got -0.1"), std::string::npos) << message;
  trace.begin("eval", kiln::EntryKind::eval, x.sum({0, 1}));
  kiln::Tensor ex = trace.input("x", {4, 3});
  message = errorOf([&] { kiln::nn::functional::dropout(ex, 0.5, /*training=*/true); });
  EXPECT_NE(message.find("an eval entry"), std::string::npos) << message;
  EXPECT_EQ(kiln::nn::functional::dropout(ex, 0.5, /*training=*/false).value(), ex.value());
}

} // namespace
